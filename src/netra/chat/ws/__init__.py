"""The /ws agent stream: protocol messages, close codes and the socket session."""
