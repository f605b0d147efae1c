"""The paper's model families, classifier heads and the reference-checkpoint import.

Example:
    >>> from aglu.models import create
    >>> model = create("se_resnet32", 10, in_chans=1, act_layer="aglu", gate_layer="apa",
    ...                head="cosine")
    >>> type(model).__name__
    'CifarResNet'
"""

from aglu.models.attention import CBAM, GATES, SqueezeExcitation, create_gate
from aglu.models.cifar_resnet import CifarResNet
from aglu.models.heads import HEADS, CosineHead, LearnableScaleCosineHead, create_head
from aglu.models.imagenet_resnet import ResNet
from aglu.models.inspection import activation_modules
from aglu.models.reference_checkpoint import load_reference_checkpoint, to_reference_state_dict
from aglu.models.registry import create, list_models

__all__ = [
    "CBAM",
    "GATES",
    "HEADS",
    "CifarResNet",
    "CosineHead",
    "LearnableScaleCosineHead",
    "ResNet",
    "SqueezeExcitation",
    "activation_modules",
    "create",
    "create_gate",
    "create_head",
    "list_models",
    "load_reference_checkpoint",
    "to_reference_state_dict",
]
