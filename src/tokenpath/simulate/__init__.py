"""Run real proxies (nginx today) in front of the mock, on loopback, in a temp dir."""
