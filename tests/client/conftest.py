from tests.chat.conftest import serve, server

__all__ = ["serve", "server"]
