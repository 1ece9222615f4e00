"""A registered method that always raises, for the failing-method workflow test."""

from grnbench.methods import UnsupervisedMethod, register


@register
class AlwaysFails(UnsupervisedMethod):
    name = "always_fails"
    description = "Raises on purpose (tests only)."

    def infer(self, data, *, seed, threads=1):
        raise RuntimeError("this method fails on purpose")
