"""API tokens (admin, integration) and the DRF bearer authentication that reads them."""
