"""Lets ``python -m ugpp_bridge`` run the console command."""

from __future__ import annotations

from ugpp_bridge.entrypoints.cli import main

main()
