"""The rules of the platform: pure decisions and the operations that record them."""
