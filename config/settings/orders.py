"""Orders, their payments and their invoices' PDF."""

from .environment import env_int

# Online methods and their gateway adapters: {"method_code": "dotted.path.GatewayClass"}.
# The built-in simulated gateway "sandbox" is always available.
PAYMENT_GATEWAYS: dict[str, str] = {}
PAYMENT_GATEWAY_TIMEOUT_SECONDS = env_int("PAYMENT_GATEWAY_TIMEOUT_SECONDS", 10)

# Most items one imported order may have (Magento has none): bounds the work one request can ask for.
ORDER_MAX_ITEMS = env_int("ORDER_MAX_ITEMS", 1000)

# Magento's sales/identity/address, printed under the store's name on PDF invoices: one multi-line string, or a
# dict of them by store code with "*" for the rest. Empty: the name alone.
SALES_IDENTITY_ADDRESS: str | dict[str, str] = ""
