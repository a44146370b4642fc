"""Contract (OpenAPI) and conformance suite for MovieLens ratings API servers."""
