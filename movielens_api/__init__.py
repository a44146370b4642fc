"""Reference server for the MovieLens ratings API."""
