"""One module per protocol: what to send, and how to read the answer. The registry that orders them and
gives their default ports is ``shoal.collect.protocols``."""
