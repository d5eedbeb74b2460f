"""Mail: what is sent (messages), how (transports), and the outbox that never loses one."""
