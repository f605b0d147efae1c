"""aglu: Adaptive Parametric Activation (APA) and AGLU for PyTorch (Alexandridis et al., ECCV 2024).

The layers need torch alone; the toolkit (models, data, training, analysis) needs ``aglu[train]``.
"""

from aglu import functional
from aglu.conversion import convert
from aglu.layers import AGLU, APA, create_activation
from aglu.optim import param_groups

__version__ = "0.1.0"
__all__ = ["AGLU", "APA", "convert", "create_activation", "functional", "param_groups"]
