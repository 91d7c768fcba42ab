"""The limits the security suite's server runs with, shared by its fixture and the tests that probe them."""

TIMEOUT = 1.5
REQUEST_TIMEOUT = 3
CONNECTIONS_PER_CLIENT = 200
IDLE_TIMEOUT = 4
