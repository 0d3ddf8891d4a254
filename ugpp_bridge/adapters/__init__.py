"""Adapters: one package per technology that has several modules (``source``: the entity's
data; ``state``: our own database; ``soap``: the wire), one module per technology that needs
only one (calendar, directory, mail, PDF, signing, webhook, XLSX). Each maps its library's
errors to ``ugpp_bridge.errors``."""
