"""Sign in with Google or any OpenID Connect provider: one more way to begin a session."""
