"""Sans-IO stream model: bytes in, events out. No sockets, no clocks."""
