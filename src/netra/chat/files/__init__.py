"""Files in a thread: what an upload is (`sniff`), its text (`extract`), where its bytes
live (`store`) and the rules around them all (`library`)."""

from netra.chat.files.library import FileLibrary
from netra.chat.files.store import DatabaseFileStore, FileStore

__all__ = ["DatabaseFileStore", "FileLibrary", "FileStore"]
