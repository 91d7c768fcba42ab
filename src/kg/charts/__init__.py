"""Time series read from the store, and the charts drawn from them."""
