class PaymentException(Exception):
    """A payment operation refused; ``template`` and ``parameters`` follow Magento's phrases."""

    code = "payment_refused"

    def __init__(self, template: str, parameters=None):
        self.template = template
        self.parameters = parameters or []
        super().__init__(template)


class CaptureUnavailable(PaymentException):
    code = "capture_unavailable"
