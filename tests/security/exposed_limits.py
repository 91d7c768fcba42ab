"""The limits the security suite's server runs with, shared by its fixture and the tests that probe them."""

TIMEOUT = 3.0
REQUEST_TIMEOUT = 6
CONNECTIONS_PER_CLIENT = 200
IDLE_TIMEOUT = 4
