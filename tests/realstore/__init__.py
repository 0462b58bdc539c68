"""Real object stores the suite starts on loopback (today: SeaweedFS), and their tests."""
