"""Inception v2 and v3 as TF-slim builds them: stems of convolutions and pools, then mixed modules.

A mixed module runs three or four branches on the same input and stacks
their maps along channels (:class:`~rfmaps.layers.residual.Concat`); a
neuron of the module sees the union of its branches' fields, the largest
one's since all branches are centred alike. The definitions follow
tensorflow/models ``research/slim/nets/inception_v2.py`` and
``inception_v3.py`` (``inception_v2_base``, ``inception_v3_base``, depth
multiplier 1), branch by branch and in their channel order; names are
TF-slim's end-points (``Conv2d_1a_7x7``, ``Mixed_3b``...).
"""

from __future__ import annotations

from typing import Sequence, Tuple

from .._core.validation import IntOrPair
from .network import Network
from .slim import Op, Stack, avg_pool, concat, conv, max_pool

__all__ = ["inception_v2", "inception_v3"]


def _build(stack: Stack, steps: Sequence[Tuple[str, Op]], input_size=None) -> Network:
    for name, step in steps:
        step(stack, name)
    return Network(stack.named, [name for name, _ in steps], input_size)


def inception_v2(input_size: IntOrPair = 224) -> Network:
    """Inception v2 (batch-normalised GoogLeNet) up to ``Mixed_5c``, as TF-slim's ``inception_v2_base``.

    Every layer pads ``'SAME'``, so the paddings of the stride-2 layers depend
    on the image size: the network is built for ``input_size``. The first
    layer is TF-slim's separable 7 x 7 convolution: a depthwise one (8 maps per
    colour) then a 1 x 1.

    Examples
    --------
    >>> from rfmaps.models.network import stage_table
    >>> row = stage_table(inception_v2())[-1]
    >>> row.name, row.rf_size, row.jump, row.output_size
    ('Mixed_5c', (699, 699), (32, 32), (7, 7))
    """
    def mixed(b0: int, b1: Tuple[int, int], b2: Tuple[int, int, int], b3: int, pool=avg_pool) -> Op:
        return concat([conv(b0, 1)], [conv(b1[0], 1), conv(b1[1], 3)],
                      [conv(b2[0], 1), conv(b2[1], 3), conv(b2[2], 3)], [pool(3), conv(b3, 1)])

    def reduction(b0: Tuple[int, int], b1: Tuple[int, int, int]) -> Op:
        return concat([conv(b0[0], 1), conv(b0[1], 3, 2)],
                      [conv(b1[0], 1), conv(b1[1], 3), conv(b1[2], 3, 2)], [max_pool(3, 2)])

    stack = Stack(input_size, 3)
    conv(24, 7, 2, groups=3, activation=None)(stack, "Conv2d_1a_7x7/depthwise")  # 3 channels x 8
    steps = [
        ("Conv2d_1a_7x7", conv(64, 1)),  # separable_conv2d's pointwise half, then its ReLU
        ("MaxPool_2a_3x3", max_pool(3, 2)),
        ("Conv2d_2b_1x1", conv(64, 1)),
        ("Conv2d_2c_3x3", conv(192, 3)),
        ("MaxPool_3a_3x3", max_pool(3, 2)),
        ("Mixed_3b", mixed(64, (64, 64), (64, 96, 96), 32)),
        ("Mixed_3c", mixed(64, (64, 96), (64, 96, 96), 64)),
        ("Mixed_4a", reduction((128, 160), (64, 96, 96))),
        ("Mixed_4b", mixed(224, (64, 96), (96, 128, 128), 128)),
        ("Mixed_4c", mixed(192, (96, 128), (96, 128, 128), 128)),
        ("Mixed_4d", mixed(160, (128, 160), (128, 160, 160), 96)),
        ("Mixed_4e", mixed(96, (128, 192), (160, 192, 192), 96)),
        ("Mixed_5a", reduction((128, 192), (192, 256, 256))),
        ("Mixed_5b", mixed(352, (192, 320), (160, 224, 224), 128)),
        ("Mixed_5c", mixed(352, (192, 320), (192, 224, 224), 128, pool=max_pool)),  # TF-slim: a max pool here
    ]
    return _build(stack, steps, input_size)


def inception_v3() -> Network:
    """Inception v3 up to ``Mixed_7c``, as TF-slim's ``inception_v3_base``.

    The stem and the two grid reductions (``Mixed_6a``, ``Mixed_7a``) pad
    nothing (``'VALID'``) and every ``'SAME'`` layer has stride 1, so the
    paddings do not depend on the image size: the same network takes any
    image of 75 x 75 pixels or more (it was trained at 299).

    Examples
    --------
    >>> from rfmaps.models.network import stage_table
    >>> row = stage_table(inception_v3(), 224)[-1]
    >>> row.name, row.rf_size, row.jump, row.output_size
    ('Mixed_7c', (1311, 1311), (32, 32), (5, 5))
    """
    def mixed_5(pool_depth: int) -> Op:
        return concat([conv(64, 1)], [conv(48, 1), conv(64, 5)], [conv(64, 1), conv(96, 3), conv(96, 3)],
                      [avg_pool(3), conv(pool_depth, 1)])

    def mixed_6(c: int) -> Op:  # 7 x 7 convolutions factorised into 1 x 7 and 7 x 1
        return concat([conv(192, 1)], [conv(c, 1), conv(c, (1, 7)), conv(192, (7, 1))],
                      [conv(c, 1), conv(c, (7, 1)), conv(c, (1, 7)), conv(c, (7, 1)), conv(192, (1, 7))],
                      [avg_pool(3), conv(192, 1)])

    def mixed_7() -> Op:  # the 3 x 3 is split into 1 x 3 and 3 x 1 side by side, concatenated
        return concat([conv(320, 1)], [conv(384, 1), concat([conv(384, (1, 3))], [conv(384, (3, 1))])],
                      [conv(448, 1), conv(384, 3), concat([conv(384, (1, 3))], [conv(384, (3, 1))])],
                      [avg_pool(3), conv(192, 1)])

    steps = [
        ("Conv2d_1a_3x3", conv(32, 3, 2, "VALID")),
        ("Conv2d_2a_3x3", conv(32, 3, 1, "VALID")),
        ("Conv2d_2b_3x3", conv(64, 3)),
        ("MaxPool_3a_3x3", max_pool(3, 2, "VALID")),
        ("Conv2d_3b_1x1", conv(80, 1, 1, "VALID")),
        ("Conv2d_4a_3x3", conv(192, 3, 1, "VALID")),
        ("MaxPool_5a_3x3", max_pool(3, 2, "VALID")),
        ("Mixed_5b", mixed_5(32)),
        ("Mixed_5c", mixed_5(64)),
        ("Mixed_5d", mixed_5(64)),
        ("Mixed_6a", concat([conv(384, 3, 2, "VALID")], [conv(64, 1), conv(96, 3), conv(96, 3, 2, "VALID")],
                            [max_pool(3, 2, "VALID")])),
        ("Mixed_6b", mixed_6(128)),
        ("Mixed_6c", mixed_6(160)),
        ("Mixed_6d", mixed_6(160)),
        ("Mixed_6e", mixed_6(192)),
        ("Mixed_7a", concat([conv(192, 1), conv(320, 3, 2, "VALID")],
                            [conv(192, 1), conv(192, (1, 7)), conv(192, (7, 1)), conv(192, 3, 2, "VALID")],
                            [max_pool(3, 2, "VALID")])),
        ("Mixed_7b", mixed_7()),
        ("Mixed_7c", mixed_7()),
    ]
    # Stride-1 'SAME' pads (k - 1) / 2 on every size: any size builds the same layers.
    return _build(Stack(299, 3), steps)
