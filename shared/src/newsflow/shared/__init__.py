"""newsflow.shared: the event contract, settings, logging and the Redis Streams stage runtime.

This is a library: it is imported by the services and the CLI and never run by itself.
"""
