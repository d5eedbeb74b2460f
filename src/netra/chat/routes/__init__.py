"""REST routes of the chat backend, one module per resource."""
