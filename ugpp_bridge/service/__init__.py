"""Use cases: what operators and UGPP ask the bridge to do, talking to ports only."""
