"""One module per technology; each maps its library's errors to ``ugpp_bridge.errors``."""
