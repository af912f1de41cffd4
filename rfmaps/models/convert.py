"""Read a PyTorch model as rfmaps layers: :func:`from_torch`.

A student's network is read from its real graph: ``torch.fx`` traces
``forward`` symbolically, so a hand-written ``x + self.body(x)`` becomes a
:class:`~rfmaps.Residual` without a table of known block classes. A
``torch.nn.Sequential`` is read child by child (its forward is that chain).

Only what rfmaps computes exactly is read, with the weights and statistics
the model holds, as the model computes in ``eval()`` mode (dropout off, batch
normalisation with its running statistics). Anything else is refused by the
class and place of the module in the model: nothing is guessed. What would
still be random in ``eval()`` mode (``F.dropout`` with its default
``training=True``) or is random now (a torchvision ``StochasticDepth`` in
training mode) is refused too, never read as the identity.

torch is imported inside :func:`from_torch` only, so ``import rfmaps`` works
without it.
"""

from __future__ import annotations

import operator
from contextvars import ContextVar
from typing import List, Optional

from ..layers import (AdaptiveAvgPool2d, AvgPool2d, BatchNorm2d, ChannelShuffle, ChannelSlice, Conv2d,
                     ConvTranspose2d, ELU, Flatten, GELU, GlobalAvgPool2d, Hardsigmoid, Hardswish, Layer, LayerNorm2d,
                     LeakyReLU, MaxPool2d, ReLU, ReLU6, Sigmoid, SiLU, SqueezeExcitation, Tanh, Upsample, ZeroPad2d)
from ..layers.residual import Concat, Residual, arriving_channels

__all__ = ["from_torch"]

# The CPU build, as rfmaps.models.zoo.INSTALL says it: a plain ``pip install torch`` on Linux pulls the CUDA
# build, several GB that a notebook never uses (zoo is not imported here: it pulls the engine in).
_INSTALL = ("from_torch needs PyTorch, which rfmaps does not install: run  "
            "%pip install torch --index-url https://download.pytorch.org/whl/cpu  in a cell and restart the kernel "
            "(see https://pytorch.org/get-started/locally/ for other builds)")

_NO_KIND = "rfmaps has no layer kind for it"
# The module and place each Flatten of the model being read was made for (by id: one fresh Flatten per module),
# so the check after reading (a flatten only of a 1 x 1 map) names them.
_FLATTENS: ContextVar[dict] = ContextVar("_FLATTENS")
# The torch Linear each 1 x 1 convolution read for a Linear stands for (by id), its weights not yet copied:
# after a flatten of an h x w map it becomes one h x w convolution, and copying VGG's 25088 x 4096 weights
# once, not twice, is seconds saved.
_LINEARS: ContextVar[dict] = ContextVar("_LINEARS")
# Global pooling (a classifier's head, a squeeze-and-excitation gate), by module or call name.
_GLOBAL = {"AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "adaptive_avg_pool2d", "adaptive_max_pool2d", "mean", "amax"}
# Modules with no feature maps of their own: rfmaps reads the convolutional part of a network.
_HEADS = {"Linear", "Flatten", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "LazyLinear", "Softmax", "LogSoftmax"}


def from_torch(model) -> List[Layer]:
    """The rfmaps layers of a PyTorch model, weights included, as it computes in ``eval()`` mode.

    Parameters
    ----------
    model : torch.nn.Module
        Made of ``Sequential`` (nested to any depth), ``Conv2d`` (any padding,
        dilation, groups, bias), ``ConvTranspose2d``, nearest ``Upsample`` by a
        whole factor, ``MaxPool2d``, ``AvgPool2d``, ``ZeroPad2d``,
        ``BatchNorm2d`` (its running statistics), ``ReLU``, ``LeakyReLU``,
        ``ELU``, ``GELU``, ``SiLU``, ``Sigmoid``, ``Tanh``, ``ReLU6``,
        ``Hardswish``, ``Hardsigmoid``, ``Dropout`` and ``Identity`` (both
        left out: they do nothing in ``eval()`` mode), and modules whose own
        ``forward`` chains those, adds two branches of the same shape
        (``x + f(x)``: a :class:`~rfmaps.Residual`), adds a bias of one
        number per channel (shape ``(1, C, 1, 1)``) or one number for all (a
        ``BatchNorm2d`` with no statistics), concatenates branches along channels
        (``torch.cat([...], 1)``: a :class:`~rfmaps.Concat`; Inception,
        DenseNet, SqueezeNet) or calls the functional forms
        (``F.relu``, ``F.relu6``, ``F.max_pool2d``, ...; ``F.dropout`` only
        with ``training=False``, or ``p=0``). torchvision's ResNet
        ``BasicBlock`` and ``Bottleneck`` are read the same way, its
        ``FrozenBatchNorm2d`` as a ``BatchNorm2d``, and its
        ``StochasticDepth`` is left out when the model is in ``eval()`` mode
        (or its ``p`` is 0); timm's ``BatchNormAct2d`` is a ``BatchNorm2d``
        and its activation. Pools may use ``ceil_mode``,
        ``count_include_pad=False`` and ``divisor_override``. Checks on the
        input's ``ndim`` or ``shape`` that compute nothing are skipped.
        Whole-image parts: a classifier's head (``AdaptiveAvgPool2d(1)`` or
        ``x.mean((2, 3))``, flatten, ``Linear``), squeeze-and-excitation
        gates (``x * gate(mean of x)``, torchvision's ``SqueezeExcitation``
        and timm's: a :class:`~rfmaps.SqueezeExcitation`; every neuron after
        one sees its whole input map), and ``AdaptiveAvgPool2d((h, w))``
        (VGG, AlexNet: read at the input sizes where its windows are equal,
        the identity on an ``h x w`` map), whose flatten and first ``Linear``
        are one ``h x w`` convolution.

    Returns
    -------
    list of Layer
        Ready for :func:`rfmaps.receptive_fields`, :func:`rfmaps.feature_maps`
        and the rest; ``feature_maps(layers, image)[-1]`` equals the model's
        output (up to float32 rounding). The model itself is not changed.

    Raises
    ------
    ImportError
        When PyTorch is not installed (the message says how to get it).
    ValueError
        For a module or operation rfmaps cannot compute exactly: the message
        names its class and its place in the model (``layer1.0.conv1``) and
        suggests a ``Sequential`` of known parts. Also for a sum torch
        broadcasts (a map plus a value pooled over the whole map, or plus a
        map of one channel: the message gives both shapes), for a
        ``StochasticDepth`` in training mode (call ``model.eval()`` first) and
        for ``F.dropout`` called with ``training=True``, its default; for a
        module called with more than its input (``output_size=``); for
        weights on the meta device or in half precision (the message names
        the parameter).

    Examples
    --------
    >>> import torch  # doctest: +SKIP
    >>> model = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.ReLU())  # doctest: +SKIP
    >>> from_torch(model)  # doctest: +SKIP
    [Conv2d(1, 4, kernel_size=3, weight=<given>, bias=<given>), ReLU()]
    """
    try:
        import torch
    except ImportError:
        raise ImportError(_INSTALL) from None
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    _check_tensors(model, torch)
    token, linears = _FLATTENS.set({}), _LINEARS.set({})
    try:
        with torch.no_grad():
            layers = _read(model, "", torch)
            layers = _resolve_flattens(layers, None)[0]
    finally:
        _FLATTENS.reset(token)
        _LINEARS.reset(linears)
    if not layers:
        raise ValueError(f"model ({type(model).__name__}) holds no layer rfmaps can show: it computes the "
                         "identity in eval() mode")
    return layers


def _resolve_flattens(layers, size: Optional[tuple]) -> tuple:
    """Read each flatten (with the Linear after it) as what it computes; return the layers and the map size
    after them.

    A flatten of a 1 x 1 map (after a global pooling) only drops two axes: it stays, and the Linear after
    it is a 1 x 1 convolution. A flatten of a map whose size is known whatever the input (after
    ``AdaptiveAvgPool2d((7, 7))``: VGG, AlexNet) followed by a Linear is one convolution whose kernel is
    the whole ``h x w`` map: ``Linear(C h w, n)`` on ``flatten(x)`` reads ``x[c, i, j]`` with weight
    ``W[:, c h w + i w + j]``, so its weight reshaped to ``(n, C, h, w)`` gives the same sums. Any other
    flatten is refused. Sizes are known only after such a pooling; ``None`` means not known.
    """
    out: list = []
    index = 0
    linears = _LINEARS.get({})
    while index < len(layers):
        layer = layers[index]
        if id(layer) in linears:  # a Linear on the channels of a 1 x 1 map (or of a pixel): a 1 x 1 convolution
            layer = _linear_conv(linears[id(layer)])
        if isinstance(layer, Flatten) and out and isinstance(out[-1], Flatten):
            # A Linear's own flatten right after the model's Flatten (kept only on a 1 x 1 map): one row, not two.
            index += 1
            continue
        if isinstance(layer, Flatten) and size != (1, 1):
            module, place = _FLATTENS.get().get(id(layer), ("Flatten", ""))
            after = index
            while after < len(layers) and isinstance(layers[after], Flatten):
                after += 1
            linear = layers[after] if after < len(layers) else None
            channels = _channels_of(out)
            if size is not None and id(linear) in linears and \
                    (channels or 0) * size[0] * size[1] == linears[id(linear)].in_features:
                module = linears[id(linear)]
                weight = module.weight.detach().reshape(module.out_features, channels, size[0], size[1])
                out.append(Conv2d(channels, module.out_features, size, weight=weight, bias=module.bias))
                size, index = (1, 1), after + 1
                continue
            raise _refuse(module, place, "rfmaps reads a flatten (and a Linear after it) only after a global "
                                         "pooling (AdaptiveAvgPool2d(1)), where each channel holds one value, "
                                         "or after AdaptiveAvgPool2d((h, w)) and before a Linear (one h x w "
                                         "convolution); here it would turn positions into features")
        if isinstance(layer, GlobalAvgPool2d):
            size = (1, 1)
        elif isinstance(layer, AdaptiveAvgPool2d):
            size = layer.pooled_size
        elif isinstance(layer, SqueezeExcitation):  # its gate acts on the channel means
            gate = _resolve_flattens(layer.gate, (1, 1))[0]
            if any(a is not b for a, b in zip(gate, layer.gate)):
                layer = SqueezeExcitation(tuple(gate), layer.channels)
        elif isinstance(layer, (Residual, Concat)):  # each path starts from the block's input
            done = [_resolve_flattens(path, size) for path in layer.paths]
            ends = {end for _, end in done}
            size = ends.pop() if len(ends) == 1 else None
            paths = [tuple(path) for path, _ in done]
            if any(a is not b for new, old in zip(paths, layer.paths) for a, b in zip(new, old)):
                layer = (Residual(paths[0], paths[1]) if isinstance(layer, Residual)
                         else Concat(tuple(paths), layer.in_channels))
        elif size is not None:
            size = layer.output_size(size)
        out.append(layer)
        index += 1
    return out, size


def _linear_conv(module) -> Conv2d:
    """A torch ``Linear`` as the 1 x 1 convolution it is on the channels of each pixel, weights copied."""
    return Conv2d(module.in_features, module.out_features, 1, weight=module.weight.detach()[:, :, None, None],
                  bias=module.bias)


def _check_tensors(model, torch) -> None:
    """Refuse weights rfmaps cannot read as the model computes: on the meta device, or in half precision."""
    for name, tensor in list(model.named_parameters()) + list(model.named_buffers()):
        if tensor.is_meta:
            raise ValueError(f"from_torch cannot read model.{name}: it is on the meta device, so it has a shape "
                             "but no values; load real weights first (for example model.to_empty(device='cpu') "
                             "and then model.load_state_dict(...))")
        if tensor.is_floating_point() and tensor.dtype not in (torch.float32, torch.float64):
            raise ValueError(f"from_torch cannot read model.{name}: its dtype is {tensor.dtype}, and rfmaps "
                             "computes in float32, so its maps would not be the model's; call model.float() "
                             "first (that conversion is exact) if float32 is what you want to see")


def _where(place: str) -> str:
    return f"model.{place}" if place else "model"


def _refuse(module_or_name, place: str, reason: str = "", hint: bool = True) -> ValueError:
    """The error for what cannot be read; ``hint=False`` when ``reason`` already says what to do."""
    name = module_or_name if isinstance(module_or_name, str) else type(module_or_name).__name__
    if reason == _NO_KIND and name.split(" ")[0] in _GLOBAL:
        reason = ("it pools over the whole map, so every value after it depends on the whole input image; "
                  "rfmaps describes fields that slide with the neuron, and has no kind for this one yet")
    # The head hint only for a head of the model given (model.avgpool, model.classifier.1): a global pooling
    # deeper down (a squeeze-and-excitation gate inside model.features) is no head to cut off, and no
    # Sequential of known parts computes it either.
    kind = name.split(" ")[0]
    at_top = place.count(".") <= 1 and not place.startswith("features")
    if kind in _HEADS | {"adaptive_avg_pool2d", "flatten", "linear", "mean"} and at_top:
        advice = (" rfmaps reads a classifier's head only as global average pooling, flatten and Linear; "
                  "otherwise pass the convolutional part (for example model.features, or a Sequential of the "
                  "layers up to the last pooling).")
    elif kind in _GLOBAL:
        advice = ""
    else:
        advice = " Pass a torch.nn.Sequential of known parts (Conv2d, BatchNorm2d, ReLU, MaxPool2d, ...) instead."
    return ValueError(f"from_torch cannot read {name} at {_where(place)}{': ' + reason if reason else ''}."
                      + (advice if hint else ""))


def _join(place: str, name: str) -> str:
    return f"{place}.{name}" if place and name else place or name


def _read(module, place: str, torch) -> list:
    """Layers of ``module`` found at ``place``: a chain, a known leaf, or a traced forward."""
    nn = torch.nn
    if isinstance(module, nn.Sequential) and type(module).forward is nn.Sequential.forward:
        layers = []
        # The global pooling whose 4-D output (N, C, 1, 1) no Flatten has met yet; activations and dropouts between
        # keep the shape.
        shaped = None
        # _modules, not named_children(): that skips a module placed twice, which forward runs twice.
        for name, child in module._modules.items():
            if type(child) is nn.Linear and shaped is not None:
                # torch's Linear acts on the last axis: on a 4-D map it stops ("mat1 and mat2 shapes cannot be
                # multiplied") or mixes the width, so no flatten is added for it.
                raise _refuse(child, _join(place, name), f"it comes after {type(shaped).__name__} with no Flatten "
                                                         "between: torch applies Linear to the last axis of the "
                                                         "4-D map (its width), not to its channels, so torch "
                                                         "stops or computes no classifier; a Flatten is missing "
                                                         "before it", hint=False)
            # Only after a global pooling, where rfmaps used to add the flatten itself (after a convolution the
            # flatten's own refusal names the map).
            if type(child) in (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d):
                shaped = child
            elif type(child) in (nn.Flatten, nn.Linear) or (child is not None and not _elementwise(child, nn)):
                shaped = None
            layers += _read(child, _join(place, name), torch)
        return layers
    if _is_torch_module(module):
        return _leaf(module, place, torch)
    if _is_torchvision_leaf(module):
        return _torchvision_leaf(module, place)
    if _is_timm_norm_act(module):
        return _timm_norm_act(module, place, torch)
    if _is_block(module):
        return _block(module, place, torch)
    if _is_torchvision_block(module):
        return _torchvision_block(module, place, torch)
    try:
        graph_module = _trace(module, torch)
    except Exception as error:  # tracing fails on data-dependent Python (if, loops over values, ...)
        raise _refuse(module, place, f"torch.fx could not trace its forward ({type(error).__name__}: "
                                     f"{str(error).splitlines()[0] if str(error) else 'no message'})") from None
    return _from_graph(graph_module, place, torch)


def _elementwise(module, nn) -> bool:
    """Whether ``module`` keeps its input's shape whatever it is (an activation, a dropout, the identity)."""
    return isinstance(module, (nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.ELU, nn.GELU, nn.SiLU, nn.Sigmoid, nn.Tanh,
                               nn.Hardswish, nn.Hardsigmoid, nn.Dropout, nn.Identity))


def _is_torch_module(module) -> bool:
    return type(module).__module__.startswith(("torch.nn", "torch.ao.nn"))


def _trace(module, torch):
    """``torch.fx.symbolic_trace``, but torchvision's leaf modules stay calls (their forward reads buffers)."""

    class Tracer(torch.fx.Tracer):
        def is_leaf_module(self, m, module_qualified_name):
            return (_is_torchvision_leaf(m) or _is_timm_norm_act(m) or _is_block(m)
                    or super().is_leaf_module(m, module_qualified_name))

    tracer = Tracer()
    graph = tracer.trace(module)
    return torch.fx.GraphModule(tracer.root, graph, type(module).__name__)


# torchvision's modules read as one rfmaps layer (or none), recognised by their class, not a look-alike name.
_TORCHVISION_LEAVES = {("torchvision.ops.misc", "FrozenBatchNorm2d"),
                       ("torchvision.ops.stochastic_depth", "StochasticDepth"),
                       ("torchvision.models.convnext", "LayerNorm2d"), ("timm.layers.norm", "LayerNorm2d"),
                       ("timm.layers.linear", "Linear")}
# torchvision's blocks whose forward fx cannot read as it stands (a parameter times a map, x.chunk and a
# channel shuffle computed from x.size()), read from their parts instead.
_TORCHVISION_BLOCKS = {("torchvision.models.convnext", "CNBlock"),
                       ("torchvision.models.shufflenetv2", "InvertedResidual")}


def _is_torchvision_leaf(module) -> bool:
    cls = type(module)
    return (cls.__module__, cls.__name__) in _TORCHVISION_LEAVES


def _torchvision_leaf(module, place: str) -> list:
    """torchvision's ``FrozenBatchNorm2d`` (a BatchNorm2d), ``StochasticDepth`` (nothing in eval mode) or
    ``LayerNorm2d`` (torchvision's or timm's: a LayerNorm over the channels of each pixel)."""
    if type(module).__name__ == "LayerNorm2d":
        return _layer_norm(module, place)
    if type(module).__name__ == "Linear":  # timm's: a torch Linear whose forward casts its weights for scripting
        return _linear(module, place)
    if type(module).__name__ == "StochasticDepth":
        return _stochastic_depth(module.p, module.mode, module.training, type(module).__name__, place,
                                 "it is in training mode")
    if not hasattr(module, "eps"):  # torchvision before 0.8 had none (and no eps in its formula)
        raise _refuse(module, place, "it has no eps attribute to read")
    try:
        return [BatchNorm2d(module.weight.shape[0], float(module.eps), weight=module.weight, bias=module.bias,
                            running_mean=module.running_mean, running_var=module.running_var)]
    except (TypeError, ValueError) as error:
        raise _refuse(module, place, str(error)) from None


def _layer_norm(module, place: str) -> list:
    """A ``torch.nn.LayerNorm`` over the channels of each pixel (of a channels-last map, or a LayerNorm2d)."""
    shape = tuple(module.normalized_shape)
    if len(shape) != 1:
        raise _refuse(module, place, f"normalized_shape={shape} normalises over more than the channels of a "
                                     "pixel; rfmaps reads a LayerNorm over channels only", hint=False)
    affine = getattr(module, "elementwise_affine", True)
    return [LayerNorm2d(shape[0], float(module.eps), weight=module.weight if affine else None,
                        bias=module.bias if affine and module.bias is not None else None)]


def _is_block(module) -> bool:
    cls = type(module)
    return (cls.__module__, cls.__name__) in _TORCHVISION_BLOCKS


def _block(module, place: str, torch) -> list:
    """torchvision's ConvNeXt ``CNBlock`` or ShuffleNetV2 ``InvertedResidual``, read from their parts."""
    if type(module).__name__ == "CNBlock":
        body = _channels_last(module.block, _join(place, "block"), torch)
        scale = module.layer_scale.detach().reshape(-1)
        # layer_scale * block(x): a scale per channel, which is BatchNorm2d with eps=0 and no statistics.
        body += [BatchNorm2d(len(scale), 0.0, weight=scale)]
        body += _read(module.stochastic_depth, _join(place, "stochastic_depth"), torch)
        return [_residual(body, [], place)]
    branch2 = _read(module.branch2, _join(place, "branch2"), torch)
    if module.stride == 1:  # x1, x2 = x.chunk(2, dim=1); cat(x1, branch2(x2))
        half = _channels_of(branch2[:1]) if branch2 else None
        if half is None:
            raise _refuse(module, place, "its branch2 does not say how many channels it takes")
        first, second = [ChannelSlice(2 * half, 0, half)], [ChannelSlice(2 * half, half, 2 * half)] + branch2
    else:
        first, second = _read(module.branch1, _join(place, "branch1"), torch), branch2
    try:
        block = Concat((tuple(first), tuple(second)))
        channels = block.out_channels if block.in_channels else None
        if channels is None:
            raise ValueError("its branches do not say how many channels arrive")
    except ValueError as error:
        raise ValueError(f"from_torch cannot read the concatenation at {_where(place)}: {error}") from None
    return [block, ChannelShuffle(channels, 2)]


def _channels_last(sequence, place: str, torch) -> list:
    """ConvNeXt's block: convolutions, then ``Permute([0, 2, 3, 1])``, LayerNorm and Linear layers on
    channels-last maps (each a per-pixel map of channels: a LayerNorm2d, a 1 x 1 convolution), and back."""
    nn, layers, last = torch.nn, [], False
    for name, child in sequence._modules.items():
        where = _join(place, name)
        if type(child).__name__ == "Permute" and list(child.dims) in ([0, 2, 3, 1], [0, 3, 1, 2]):
            last = list(child.dims) == [0, 2, 3, 1]
        elif last and type(child) is nn.LayerNorm:
            layers += _layer_norm(child, where)
        elif last and type(child) is nn.Linear:
            weight = child.weight.detach()[:, :, None, None]
            layers.append(Conv2d(child.in_features, child.out_features, 1, weight=weight, bias=child.bias))
        elif last and not _is_torch_module(child):
            raise _refuse(child, where, "it works on channels-last maps, where rfmaps reads LayerNorm, Linear "
                                        "and activations only")
        else:
            layers += _read(child, where, torch)
    if last:
        raise _refuse(sequence, place, "it ends on channels-last maps (no Permute([0, 3, 1, 2]) back)")
    return layers


def _is_timm_norm_act(module) -> bool:
    """timm's ``BatchNormAct2d``: a ``BatchNorm2d`` followed by its ``drop`` and ``act`` modules."""
    cls = type(module)
    return cls.__module__ == "timm.layers.norm_act" and cls.__name__ == "BatchNormAct2d"


def _timm_norm_act(module, place: str, torch) -> list:
    """Batch normalisation with the running statistics (its forward in eval mode), then drop, then act.

    Read here, not traced: its forward asserts on ``x.ndim`` and chooses between statistics with Python
    ``if``s on the module's own flags.
    """
    if module.training or module.running_mean is None or module.running_var is None:
        raise _refuse(module, place, "it normalises with each batch's statistics (training mode or "
                                     "track_running_stats=False); call model.eval() first", hint=False)
    norm = torch.nn.BatchNorm2d(module.num_features, module.eps, affine=module.affine)
    if module.affine:
        norm.weight, norm.bias = module.weight, module.bias
    norm.running_mean, norm.running_var = module.running_mean, module.running_var
    return (_leaf(norm, place, torch) + _read(module.drop, _join(place, "drop"), torch)
            + _read(module.act, _join(place, "act"), torch))


def _stochastic_depth(p, mode, training, name: str, place: str, why: str, advice: str = "call") -> list:
    """torchvision's stochastic depth: the identity when not training or when ``p == 0``, else refused.

    ``why`` says what makes it train (the module's mode, or the call's ``training`` argument) and
    ``advice`` starts the sentence that says how to make it fixed.
    """
    if not isinstance(p, (int, float)) or not 0 <= p <= 1 or mode not in ("batch", "row"):
        raise _refuse(name, place, f"p={p!r} and mode={mode!r}: torchvision takes 0 <= p <= 1 and mode 'batch' "
                                   "or 'row' only", hint=False)
    if training and p > 0:
        raise _refuse(name, place, f"{why}, and p={p}: it drops its input at random; {advice} model.eval() "
                                   "before from_torch (rfmaps reads a model as it computes in eval() mode, where "
                                   "stochastic depth passes its input on unchanged)", hint=False)
    return []


def _is_torchvision_function(target, name: str) -> bool:
    return getattr(target, "__module__", None) == "torchvision.ops.stochastic_depth" and \
        getattr(target, "__name__", None) == name


def _is_torchvision_block(module) -> bool:
    """A ResNet block of torchvision itself (its class, not a look-alike name)."""
    cls = type(module)
    return cls.__module__ == "torchvision.models.resnet" and cls.__name__ in ("BasicBlock", "Bottleneck")


def _torchvision_block(module, place: str, torch) -> list:
    """``relu(body(x) + downsample(x))``, as torchvision's BasicBlock and Bottleneck compute it.

    Only used when a model cannot be traced as a whole (tracing reads these
    blocks' forward directly).
    """
    parts = ["conv1", "bn1", "relu", "conv2", "bn2"]
    if type(module).__name__ == "Bottleneck":
        parts += ["relu", "conv3", "bn3"]
    body = []
    for name in parts:
        body += _read(getattr(module, name), _join(place, name), torch)
    shortcut = [] if module.downsample is None else _read(module.downsample, _join(place, "downsample"), torch)
    return [_residual(body, shortcut, place), ReLU()]


def _residual(body, shortcut, place: str) -> Residual:
    try:
        return Residual(body, shortcut)
    except ValueError as error:
        raise ValueError(f"from_torch cannot read the sum at {_where(place)}: {error}") from None


def _number(value, name: str, place: str, module):
    """A tuple, int or whole float of a torch module's option as ints."""
    if isinstance(value, (tuple, list)):
        return tuple(_number(v, name, place, module) for v in value)
    if isinstance(value, float):
        if not value.is_integer():
            raise _refuse(module, place, f"{name}={value} is not a whole number")
        return int(value)
    return value


def _leaf(module, place: str, torch) -> list:
    """The rfmaps layer of one built-in torch.nn module ([] when it does nothing in eval mode)."""
    nn = torch.nn
    kind = type(module).__name__
    if isinstance(module, (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout, nn.Identity)):
        return []
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)) and module.padding_mode != "zeros":
        raise _refuse(module, place, f"padding_mode={module.padding_mode!r}; rfmaps pads with zeros only")
    if type(module) is nn.Conv2d:
        return [Conv2d(module.in_channels, module.out_channels, module.kernel_size, module.stride, module.padding,
                       module.dilation, module.groups, weight=module.weight, bias=module.bias)]
    if type(module) is nn.ConvTranspose2d:
        return [ConvTranspose2d(module.in_channels, module.out_channels, module.kernel_size, module.stride,
                                module.padding, module.output_padding, module.groups, module.dilation,
                                weight=module.weight, bias=module.bias)]
    if type(module) is nn.MaxPool2d:
        if module.return_indices:
            raise _refuse(module, place, "return_indices=True makes it return two tensors; rfmaps reads one map")
        return [MaxPool2d(module.kernel_size, module.stride, module.padding, module.dilation,
                          bool(module.ceil_mode))]
    if type(module) is nn.AvgPool2d:
        return [AvgPool2d(module.kernel_size, module.stride, module.padding, bool(module.ceil_mode),
                          bool(module.count_include_pad), module.divisor_override)]
    if type(module) in (nn.Upsample, nn.UpsamplingNearest2d):
        if module.size is not None:
            raise _refuse(module, place, "size= depends on the input size; give scale_factor instead")
        if module.scale_factor is None:  # torch keeps scale_factor=0 as None: not set
            raise _refuse(module, place, "it has no scale_factor (torch reads scale_factor=0 as not set); give a "
                                         "whole scale_factor >= 1")
        if module.mode != "nearest":
            raise _refuse(module, place, f"mode={module.mode!r}; rfmaps reads mode='nearest' only")
        return [Upsample(_number(module.scale_factor, "scale_factor", place, module))]
    if type(module) is nn.ZeroPad2d:
        return [ZeroPad2d(tuple(module.padding))]
    if type(module) is nn.AdaptiveAvgPool2d:
        size = module.output_size
        if size in (1, (1, 1), [1, 1]):
            return [GlobalAvgPool2d()]
        sizes = size if isinstance(size, (tuple, list)) else (size, size)
        if len(sizes) != 2 or not all(isinstance(n, int) and n >= 1 for n in sizes):
            raise _refuse(module, place, f"output_size={size!r} keeps a side of the input (None); rfmaps reads "
                                         "whole-number output sizes only", hint=False)
        # Its windows depend on the map's size: read where they are equal (the identity on a map of
        # output_size, as VGG's 7 x 7 at 224 x 224), and refused by receptive_fields at other sizes.
        return [AdaptiveAvgPool2d(tuple(sizes))]
    if type(module) is nn.Flatten:
        if module.start_dim != 1 or module.end_dim not in (-1, 3):
            raise _refuse(module, place, f"start_dim={module.start_dim}, end_dim={module.end_dim}; rfmaps reads "
                                         "a flatten of everything after the batch (start_dim=1) only")
        return [_flatten("Flatten", place)]
    if type(module) is nn.Linear:
        return _linear(module, place)
    if type(module) is nn.BatchNorm2d:
        if module.running_mean is None or module.running_var is None:
            raise _refuse(module, place, "track_running_stats=False: in eval() mode it still normalises "
                                         "with each batch's statistics, so it is no fixed map")
        return [BatchNorm2d(module.num_features, module.eps, weight=module.weight, bias=module.bias,
                            running_mean=module.running_mean, running_var=module.running_var)]
    simple = {nn.ReLU: ReLU, nn.Sigmoid: Sigmoid, nn.Tanh: Tanh, nn.SiLU: SiLU, nn.ReLU6: ReLU6,
              nn.Hardswish: Hardswish, nn.Hardsigmoid: Hardsigmoid}
    if type(module) in simple:
        return [simple[type(module)]()]
    if type(module) is nn.LeakyReLU:
        return [LeakyReLU(module.negative_slope)]
    if type(module) is nn.ELU:
        return [ELU(module.alpha)]
    if type(module) is nn.GELU:
        return [GELU(module.approximate)]
    raise _refuse(kind, place, _NO_KIND)


def _linear(module, place: str) -> list:
    """A torch ``Linear`` of a classifier's head: a flatten, then the convolution it is on the flattened map.

    On the features of a flattened 1 x 1 map a Linear is a 1 x 1 convolution, and after a flatten of an
    h x w map one h x w convolution (:func:`_resolve_flattens`); the flatten is refused on any other map
    (where torch's Linear would act on the last axis instead).
    """
    linears = _LINEARS.get(None)
    if linears is None:
        return [_flatten("Linear", place), _linear_conv(module)]
    # Its weights are copied once the map it reads is known (_resolve_flattens).
    conv = Conv2d(module.in_features, module.out_features, 1)
    linears[id(conv)] = module
    return [_flatten("Linear", place), conv]


def _flatten(module: str, place: str) -> Flatten:
    """A fresh Flatten, remembered with the module and place it was read for."""
    layer = Flatten()
    _FLATTENS.get({})[id(layer)] = (module, place)
    return layer


# Functional forms and tensor methods, read as the module they stand for.
def _functions(torch) -> dict:
    F, nn = torch.nn.functional, torch.nn
    return {
        F.relu: nn.ReLU, torch.relu: nn.ReLU, torch.relu_: nn.ReLU, F.relu_: nn.ReLU,
        torch.sigmoid: nn.Sigmoid, F.sigmoid: nn.Sigmoid, torch.tanh: nn.Tanh, F.tanh: nn.Tanh,
        F.silu: nn.SiLU, F.gelu: nn.GELU, F.leaky_relu: nn.LeakyReLU, F.elu: nn.ELU,
        F.relu6: nn.ReLU6, F.hardswish: nn.Hardswish, F.hardsigmoid: nn.Hardsigmoid,
        F.max_pool2d: nn.MaxPool2d, F.avg_pool2d: nn.AvgPool2d,
        F.adaptive_avg_pool2d: nn.AdaptiveAvgPool2d, torch.flatten: nn.Flatten,
        F.dropout: nn.Dropout, F.dropout1d: nn.Dropout, F.dropout2d: nn.Dropout, F.dropout3d: nn.Dropout,
    }


_METHODS = {"relu": "ReLU", "relu_": "ReLU", "sigmoid": "Sigmoid", "tanh": "Tanh", "contiguous": "Identity"}
# Positional arguments after the input, by name (F.max_pool2d's order differs from nn.MaxPool2d's).
_POSITIONAL = {
    "MaxPool2d": ("kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices"),
    "AvgPool2d": ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override"),
    "LeakyReLU": ("negative_slope", "inplace"), "ELU": ("alpha", "inplace"),
    "Dropout": ("p", "training", "inplace"),
    "AdaptiveAvgPool2d": ("output_size",), "Flatten": ("start_dim", "end_dim"),
    "ReLU": ("inplace",), "ReLU6": ("inplace",), "Hardswish": ("inplace",), "Hardsigmoid": ("inplace",),
}
_ADDS = {operator.add, operator.iadd}


def _from_graph(graph_module, place: str, torch) -> list:
    """Layers of a traced module: chains, one Residual for each sum of two branches, one Concat for each
    concatenation along channels.

    Every value is known as the list of layers from the input to it, with the
    name of the graph node that made each layer. A sum of two values becomes
    ``Residual(body, shortcut)``, the two lists after the part they share; a
    ``torch.cat`` along channels a ``Concat`` of the lists after the part all
    its inputs share.
    """
    import torch.fx as fx

    functions = _functions(torch)
    top = type(graph_module).__name__.removesuffix("GraphModule") or "model"
    chains: dict = {}  # node -> (names of the nodes that made each layer, layers)
    concatenated: dict = {}  # the inputs of every concatenation so far -> its node (DenseNet's growing lists)
    constants = {}  # node -> (a tensor the module holds, the refusal for any use but a scale per channel)
    last = set()  # nodes whose maps are channels-last (after a permute to (0, 2, 3, 1))
    flat: set = set()  # ids of the global poolings of a mean without keepdim: torch's value is (N, C), not (N, C, 1, 1)
    needed = _needed(graph_module.graph, fx)
    for node in graph_module.graph.nodes:
        inner, owner = _origin(node, top)
        where = _join(place, node.target) if node.op == "call_module" else _join(place, inner)
        label = (f"{_name(node.target)} in {owner}.forward" if node.op in ("call_function", "call_method")
                 else f"{owner}.forward")
        if node.op == "placeholder":
            if chains:
                raise _refuse(label, place, "forward takes more than one input")
            chains[node] = ((), ())
            continue
        if node.op == "output":
            result = node.args[0]
            if not isinstance(result, fx.Node) or result not in chains:
                raise _refuse(label, place, "forward must return one tensor")
            return list(chains[result][1])
        if node not in needed and _is_check(node, torch):
            continue  # x.ndim, x.shape == ..., torch._assert: checks on the input that compute no map
        if node.op == "get_attr":
            what = (f"torch.fx calls {node.target} (a tensor the module holds, not its input)"
                    if str(node.target).startswith("_tensor_constant") else str(node.target))
            value = _attribute(graph_module, str(node.target))
            if not isinstance(value, torch.Tensor):
                raise _refuse(label, where, f"forward reads {what} directly")
            # Kept for a product by a scale per channel (a layer scale); any other use is refused there.
            constants[node] = (value.detach(), f"forward reads the tensor {what} directly")
            continue
        if node.op == "call_method" and node.target in ("reshape", "view") and node.args[0] in constants:
            value, why = constants[node.args[0]]
            shape = node.args[1] if len(node.args) == 2 and isinstance(node.args[1], (tuple, list)) else node.args[1:]
            if not all(isinstance(n, int) for n in shape):
                raise _refuse(label, where, why)
            constants[node] = (value.reshape(*shape), why)
            continue
        if _is_permute(node, torch):
            chains[node] = chains[node.args[0]]
            dims = _permutation(node)
            if dims == (0, 2, 3, 1) and node.args[0] not in last:
                last.add(node)  # channels last from here: LayerNorm and Linear act on the channels of a pixel
            elif dims != (0, 3, 1, 2) or node.args[0] not in last:
                raise _refuse(label, where, f"it permutes the axes as {dims}; rfmaps reads a move of the channels "
                                            "to the end (0, 2, 3, 1) and back (0, 3, 1, 2) only")
            continue
        if _is_mul(node, torch) and len(node.args) == 2 and \
                {type(a) for a in node.args} == {fx.Node} and any(a in constants for a in node.args):
            tensor, constant = node.args if node.args[1] in constants else node.args[::-1]
            if tensor not in chains:
                raise _refuse(label, where, constants[constant][1])
            chains[node] = _scaled(chains[tensor], constants[constant], tensor in last, node.name, label, where)
            if tensor in last:
                last.add(node)
            continue
        if _is_add(node, torch) and len(node.args) == 2 and not node.kwargs and \
                any(isinstance(a, fx.Node) and a in constants for a in node.args):
            tensor, constant = node.args if isinstance(node.args[1], fx.Node) and node.args[1] in constants \
                else node.args[::-1]
            if not isinstance(tensor, fx.Node) or tensor not in chains:
                raise _refuse(label, where, constants[constant][1])
            chains[node] = _shifted(chains[tensor], constants[constant][0], f"a tensor of shape "
                                    f"{tuple(constants[constant][0].shape)}", tensor in last, node.name, label, where)
            if tensor in last:
                last.add(node)
            continue
        if _is_add(node, torch) and len(node.args) == 2 and not node.kwargs and \
                [isinstance(a, fx.Node) for a in node.args].count(True) == 1 and \
                all(isinstance(a, (int, float, fx.Node)) and not isinstance(a, bool) for a in node.args):
            tensor, number = node.args if isinstance(node.args[0], fx.Node) else node.args[::-1]
            if tensor not in chains:
                raise _refuse(label, where, f"its input {tensor.name} is no feature map rfmaps follows")
            chains[node] = _shifted(chains[tensor], torch.tensor(float(number), dtype=torch.float64),
                                    f"the number {number}", tensor in last, node.name, label, where)
            if tensor in last:
                last.add(node)
            continue
        if node.op == "getattr" or (node.op == "call_function" and node.target is getattr):
            attribute = node.args[1] if len(node.args) > 1 else "?"
            raise _refuse(label, where, f"forward reads x.{attribute}, and rfmaps follows tensors only; a "
                                        "value computed from it decides what the model computes")
        inputs = [a for a in list(node.args) + list(node.kwargs.values()) if isinstance(a, fx.Node)]
        for value in node.all_input_nodes:
            if value in constants:
                raise _refuse(label, where, constants[value][1])
            if value in last and not (node.op in ("call_module", "call_function", "call_method") and
                                      len(node.all_input_nodes) == 1):
                raise _refuse(label, where, "it combines channels-last maps; rfmaps reads LayerNorm, Linear and "
                                            "activations on them, then a permute back to channels first")
        if _is_cat(node, torch):
            chains[node] = _concatenation(node, chains, concatenated, label, where, fx)
            continue
        if _is_add(node, torch):
            if len(inputs) != 2 or len(node.args) != 2 or node.kwargs:
                raise _refuse(label, where, "only the sum of two tensors (x + f(x)) is read")
            chains[node] = _sum(chains[inputs[0]], chains[inputs[1]], node.name, label, where, flat)
            continue
        if _is_mul(node, torch) and len(node.args) == 2 and not node.kwargs and \
                all(isinstance(a, fx.Node) and a in chains for a in node.args):
            chains[node] = _gated(chains[node.args[0]], chains[node.args[1]], node.name, label, where)
            continue
        if len(inputs) != 1 or node.args[:1] != (inputs[0],):
            _refuse_gate(graph_module, inputs, chains, place)
            raise _refuse(label, where, "rfmaps reads operations on one tensor, sums of two and concatenations "
                                        "along channels")
        if inputs[0] not in chains:
            raise _refuse(label, where, f"its input {inputs[0].name} is no feature map rfmaps follows")
        if node.op == "call_module" and inputs[0] in last:
            layers = _channels_last_module(graph_module.get_submodule(node.target), where, torch)
            last.add(node)
        elif inputs[0] in last:
            layers = _channels_last_call(node, functions, label, where, torch)
            last.add(node)
        elif node.op == "call_module":
            module = graph_module.get_submodule(node.target)
            if len(node.args) > 1 or node.kwargs:
                extra = ", ".join(list(map(repr, node.args[1:])) + [f"{k}=" for k in node.kwargs])
                raise _refuse(module, where, f"forward calls it with more than the input ({extra}); rfmaps "
                                             "reads a module as its own settings make it compute"
                              + (" (output_size= changes a transposed convolution's output_padding for "
                                 "each input size: set output_padding on the module instead)"
                                 if "output_size" in node.kwargs or len(node.args) > 1 else ""), hint=False)
            layers = _read(module, where, torch)
        elif _is_mean(node, torch):
            layers = _mean(node, label, where)
            if not dict(zip(("dim", "keepdim"), node.args[1:]), **node.kwargs).get("keepdim", False):
                flat.add(id(layers[0]))
        elif node.op == "call_method" and node.target == "flatten":
            layers = _leaf(_module_of_call(torch.nn.Flatten, node, label, where), where, torch)
        elif node.op == "call_method" and node.target in _METHODS:
            layers = _leaf(getattr(torch.nn, _METHODS[node.target])(), where, torch)
        elif node.op == "call_function" and node.target in functions:
            module = _module_of_call(functions[node.target], node, label, where)
            layers = _leaf(module, where, torch)
        elif node.op == "call_function" and _is_torchvision_function(node.target, "stochastic_depth"):
            options = dict(zip(("p", "mode", "training"), node.args[1:]), **node.kwargs)
            default = " (its default)" if "training" not in options else ""
            layers = _stochastic_depth(options.get("p"), options.get("mode"), options.get("training", True), label,
                                       where, f"it is called with training=True{default}",
                                       "pass training=self.training and call")
        else:
            raise _refuse(label, where, _NO_KIND)
        if node.op in ("call_function", "call_method"):
            for layer in layers:  # a refused flatten is named by its call, as every other call is
                if isinstance(layer, Flatten):
                    _FLATTENS.get({})[id(layer)] = (label, where)
        names, before = chains[inputs[0]]
        chains[node] = (names + (node.name,) * len(layers), before + tuple(layers))
    raise _refuse(top, place, "its graph has no output")  # fx graphs always have one


def _is_mean(node, torch) -> bool:
    return (node.op == "call_method" and node.target == "mean") or \
        (node.op == "call_function" and node.target is torch.mean)


def _mean(node, label: str, where: str) -> list:
    """``x.mean((2, 3))`` or ``torch.mean(x, [-2, -1], keepdim=True)``: a global average pooling.

    Without ``keepdim`` torch returns ``(N, C)``, which is the ``(C, 1, 1)`` map rfmaps keeps, flattened:
    a Linear after it reads the same features.
    """
    options = dict(zip(("dim", "keepdim"), node.args[1:]), **node.kwargs)
    dims = options.pop("dim", None)
    options.pop("keepdim", None)
    dims = tuple(dims) if isinstance(dims, (tuple, list)) else (dims,)
    if options or not all(isinstance(d, int) for d in dims) or {d % 4 for d in dims} != {2, 3} or len(dims) != 2:
        raise _refuse(label, where, f"it averages over dim={node.args[1] if len(node.args) > 1 else None!r}"
                                    f"{' with ' + ', '.join(options) if options else ''}; rfmaps reads a mean "
                                    "over the whole map (dim=(2, 3)) only", hint=False)
    return [GlobalAvgPool2d()]


def _gated(first, second, name: str, label: str, where: str):
    """The chain of ``x * gate(x.mean((2, 3), keepdim=True))``, either order: one SqueezeExcitation.

    One factor's chain must be the other's followed by a global average pooling and then the gate (1 x 1
    convolutions and activations on the channel means).
    """
    for (names_x, layers_x), (names_g, layers_g) in ((first, second), (second, first)):
        shared = len(names_x)
        if names_g[:shared] == names_x and len(layers_g) > shared and isinstance(layers_g[shared], GlobalAvgPool2d):
            gate = layers_g[shared + 1:]
            if not gate:
                break
            try:
                block = SqueezeExcitation(tuple(gate), _channels_of(layers_x))
            except ValueError as error:
                raise _refuse(label, where, f"it multiplies the map by a gate computed from its mean "
                                            f"(squeeze and excitation), but {error}", hint=False) from None
            return names_x + (name,), layers_x + (block,)
    raise _refuse(label, where, "it multiplies two feature maps; rfmaps reads a product of maps only as a "
                                "squeeze-and-excitation gate: a map times a function of its own mean over the "
                                "whole map (x * gate(x.mean((2, 3), keepdim=True)))", hint=False)


def _refuse_gate(graph_module, inputs, chains, place: str) -> None:
    """Refuse an operation on a value computed after a global pooling (other than a squeeze-and-excitation
    product, read before) by the pooling's place: the map would depend on the whole input through it."""
    nodes = {n.name: n for n in graph_module.graph.nodes}
    for value in inputs:
        names, layers = chains.get(value, ((), ()))
        for name, layer in zip(names, layers):
            if isinstance(layer, GlobalAvgPool2d):
                pool = nodes.get(name)
                where = _join(place, pool.target) if pool is not None and pool.op == "call_module" else place
                raise _refuse("AdaptiveAvgPool2d", where, "it feeds a value that is combined with the map in a "
                                                         "way rfmaps does not read, so every value after it "
                                                         "would depend on the whole input image; rfmaps reads a "
                                                         "squeeze-and-excitation gate written as the product "
                                                         "x * gate(x.mean((2, 3), keepdim=True))", hint=False)


def _attribute(root, target: str):
    value = root
    for part in target.split("."):
        value = getattr(value, part, None)
    return value


def _is_permute(node, torch) -> bool:
    return (node.op == "call_method" and node.target == "permute") or \
        (node.op == "call_function" and node.target is torch.permute)


def _permutation(node) -> tuple:
    dims = node.args[1:] if len(node.args) > 2 else node.args[1] if len(node.args) == 2 else node.kwargs.get("dims")
    return tuple(dims) if isinstance(dims, (tuple, list)) else (dims,)


def _is_mul(node, torch) -> bool:
    if node.op == "call_function":
        return node.target in (operator.mul, operator.imul, torch.mul)
    return node.op == "call_method" and node.target in ("mul", "mul_", "__mul__")


def _scaled(chain, constant, channels_last: bool, name: str, label: str, where: str):
    """The chain of ``x * scale`` with one scale per channel (a layer scale), as a per-channel affine map."""
    (names, layers), (value, why) = chain, constant
    # Unknown when the chain starts at this module's input: then the scale says it (and the layer's
    # num_features checks it against what arrives).
    channels = _channels_of(layers) or value.numel()
    shapes = ({(channels,), (1, channels), (1, 1, channels), (1, 1, 1, channels)} if channels_last else
              {(channels, 1, 1), (1, channels, 1, 1)})
    if channels is None or tuple(value.shape) not in shapes or not value.is_floating_point():
        raise _refuse(label, where, why + " (rfmaps reads a product by one number per channel only)")
    # weight / sqrt(running_var + eps) with running_var 1 and eps 0 is the weight itself: exactly the scale.
    return names + (name,), layers + (BatchNorm2d(channels, 0.0, weight=value.reshape(-1)),)


def _channels_last_module(module, where: str, torch) -> list:
    """A module applied to channels-last maps: LayerNorm and Linear over the channels, or a per-pixel one."""
    nn = torch.nn
    if type(module) is nn.LayerNorm:
        return _layer_norm(module, where)
    if type(module) is nn.Linear:
        return [Conv2d(module.in_features, module.out_features, 1, weight=module.weight.detach()[:, :, None, None],
                       bias=module.bias)]
    layers = _read(module, where, torch) if _is_torch_module(module) else None
    if layers is None or not all(_per_pixel(layer) for layer in layers):
        raise _refuse(module, where, "it works on channels-last maps, where rfmaps reads LayerNorm, Linear and "
                                     "activations only", hint=False)
    return layers


def _channels_last_call(node, functions, label: str, where: str, torch) -> list:
    if node.op == "call_function" and node.target in functions:
        layers = _leaf(_module_of_call(functions[node.target], node, label, where), where, torch)
    elif node.op == "call_method" and node.target in _METHODS:
        layers = _leaf(getattr(torch.nn, _METHODS[node.target])(), where, torch)
    else:
        layers = None
    if layers is None or not all(_per_pixel(layer) for layer in layers):
        raise _refuse(label, where, "it works on channels-last maps, where rfmaps reads LayerNorm, Linear and "
                                    "activations only", hint=False)
    return layers


def _per_pixel(layer) -> bool:
    """An element-wise layer: the same on channels-last maps (no window, no channel count)."""
    return isinstance(layer, (ReLU, ELU, GELU, Hardsigmoid, Hardswish, LeakyReLU, ReLU6, Sigmoid, SiLU, Tanh))


def _origin(node, top: str):
    """Where in the traced module a node was made: the innermost module's path and class name.

    torch.fx records the stack of modules whose forward was running (``nn_module_stack``), so a
    refusal can name ``features.denseblock1.denselayer1`` rather than the model as a whole.
    """
    stack = node.meta.get("nn_module_stack") or {}
    if not stack:
        return "", top
    path, cls = list(stack.values())[-1]
    name = cls if isinstance(cls, str) else getattr(cls, "__name__", str(cls))
    return str(path), name.rsplit(".", 1)[-1]


def _needed(graph, fx) -> set:
    """The nodes the output is computed from."""
    needed, todo = set(), [n for n in graph.nodes if n.op == "output"]
    while todo:
        node = todo.pop()
        if node in needed:
            continue
        needed.add(node)
        todo += [a for a in node.all_input_nodes]
    return needed


_CHECK_ATTRIBUTES = {"ndim", "shape", "dtype", "device", "is_cuda"}


def _is_check(node, torch) -> bool:
    """A node that only inspects a tensor (its ndim, shape...) or asserts: it computes no map."""
    if node.op == "call_function":
        if node.target is getattr:
            return len(node.args) > 1 and node.args[1] in _CHECK_ATTRIBUTES
        return node.target in (torch._assert, operator.eq, operator.ne, operator.lt, operator.le, operator.gt,
                               operator.ge, operator.getitem, operator.not_, operator.and_, operator.or_) or \
            getattr(node.target, "__name__", "") == "_assert"
    return node.op == "call_method" and node.target in ("dim", "size")


def _is_cat(node, torch) -> bool:
    return (node.op == "call_function" and node.target in (torch.cat, torch.concat, torch.concatenate)) or \
        (node.op == "call_method" and node.target in ("cat",))


def _concatenation(node, chains, concatenated, label: str, where: str, fx):
    """The chain of ``torch.cat(values, dim=1)``: shared layers, then one Concat of the branches."""
    options = dict(zip(("tensors", "dim"), node.args), **node.kwargs)
    values, dim = options.get("tensors"), options.get("dim", 0)
    if dim not in (1, -3):
        raise _refuse(label, where, f"it concatenates along dim={dim}; rfmaps reads concatenations of feature "
                                    "maps along channels (dim=1) only")
    if not isinstance(values, (list, tuple)) or not values or \
            not all(isinstance(v, fx.Node) and v in chains for v in values):
        raise _refuse(label, where, "it concatenates values rfmaps does not follow as feature maps")
    values = list(values)
    concatenated.setdefault(tuple(values), node)
    # DenseNet concatenates a list that grows by one map per layer: cat([x, f1, f2]) is
    # cat([cat([x, f1]), f2]), and reading it so keeps the chains linear instead of repeating each layer.
    for length in range(len(values) - 1, 1, -1):
        earlier = concatenated.get(tuple(values[:length]))
        if earlier is not None and earlier is not node and earlier in chains:
            values = [earlier] + values[length:]
            break
    if len(values) == 1:
        return chains[values[0]]
    items = [chains[v] for v in values]
    shared = 0
    while all(shared < len(names) for names, _ in items) and \
            len({names[shared] for names, _ in items}) == 1:
        shared += 1
    prefix = items[0][1][:shared]
    branches = [layers[shared:] for _, layers in items]
    try:
        block = Concat(tuple(branches), in_channels=_channels_of(prefix))
    except ValueError as error:
        raise ValueError(f"from_torch cannot read the concatenation at {_where(where)}: {error}") from None
    return items[0][0][:shared] + (node.name,), prefix + (block,)


def _channels_of(layers):
    """Channels leaving ``layers``, when a layer in them says what arrives (else None)."""
    channels = None
    for layer in layers:
        if channels is None:
            channels = (getattr(layer, "in_channels", None) or getattr(layer, "num_features", None)
                        or getattr(layer, "num_channels", None))
        if channels is not None:
            channels = layer.channels_after(channels)
    return channels


def _name(target) -> str:
    return target if isinstance(target, str) else getattr(target, "__name__", repr(target))


def _is_add(node, torch) -> bool:
    if node.op == "call_function":
        return node.target in _ADDS or node.target is torch.add
    return node.op == "call_method" and node.target in ("add", "add_", "__add__", "__iadd__")


def _sum(first, second, name: str, label: str, place: str, flat: set):
    """The chain of ``first + second``: shared layers, then one Residual of the two branches.

    A Residual adds two maps of the same shape. A sum torch broadcasts (a map plus a value computed after a
    global pooling, maps of 1 and of C channels, a flattened value) is refused with both shapes: no layer
    kind computes it (a squeeze-and-excitation gate multiplies).
    """
    (names_a, layers_a), (names_b, layers_b) = first, second
    shared = 0
    while shared < min(len(names_a), len(names_b)) and names_a[shared] == names_b[shared]:
        shared += 1
    body, shortcut = layers_a[shared:], layers_b[shared:]
    prefix = layers_a[:shared]
    arriving = _channels_of(prefix) or arriving_channels((body, shortcut))
    size = _fixed_size(prefix)
    shapes = [_shape(branch, arriving, size, any(id(layer) in flat or isinstance(layer, Flatten)
                                                 for layer in prefix + branch), flat)
              for branch in (body, shortcut)]
    (channels_a, *rest_a), (channels_b, *rest_b) = shapes
    if rest_a != rest_b or None not in (channels_a, channels_b) and channels_a != channels_b:
        raise _refuse(label, place, f"it adds values of shapes {_shown(shapes[0])} and {_shown(shapes[1])}, "
                                    "which differ (torch broadcasts them or stops); rfmaps reads a sum of two "
                                    "maps of the same shape only (x + f(x))", hint=False)
    if not body:
        body, shortcut = shortcut, body
    if not body:
        raise _refuse(f"the sum {name}", place, "it adds a value to itself (2x), which is no branch")
    return names_a[:shared] + (name,), prefix + (_residual(body, shortcut, place),)


def _shape(layers, channels, size, flat: bool, flat_pools: set) -> tuple:
    """What torch's value after ``layers`` looks like: (channels or None, fixed size or None, flattened).

    ``channels`` and ``size`` arrive (None when unknown, or when the size depends on the input); a size is
    fixed after a global or adaptive pooling. ``flat`` is True when the value arriving is already flattened.
    """
    for layer in layers:
        if channels is None:
            channels = layer.channels_before()
        if channels is not None:
            try:
                channels = layer.channels_after(channels)
            except ValueError:  # a layer that takes other channels: torch stops there, and the sum says so
                channels = None
        flat = flat or isinstance(layer, Flatten) or id(layer) in flat_pools
    return channels, _fixed_size(layers, size), flat


def _shown(shape) -> str:
    """A shape of :func:`_shape` as torch prints it, with N for the batch and C, H, W where unknown."""
    channels, size, flat = shape
    c = "C" if channels is None else str(channels)
    if flat:
        return f"(N, {c})" if size in (None, (1, 1)) else f"(N, {c} * {size[0]} * {size[1]})"
    return f"(N, {c}, {'H, W' if size is None else f'{size[0]}, {size[1]}'})"


def _fixed_size(layers, size=None):
    """The map size after ``layers`` whatever the input's (after a global or adaptive pooling), else None.

    ``size`` is the size arriving when it is fixed.
    """
    for layer in layers:
        if isinstance(layer, GlobalAvgPool2d):
            size = (1, 1)
        elif isinstance(layer, AdaptiveAvgPool2d):
            size = layer.pooled_size
        elif isinstance(layer, (Residual, Concat)) and size is None:  # paths that pool inside
            ends = {_fixed_size(path) for path in layer.paths}
            size = ends.pop() if len(ends) == 1 else None
        elif size is not None and not isinstance(layer, Flatten):
            try:
                size = layer.output_size(size)
            except ValueError:  # torch would stop there
                size = None
    return size


def _shifted(chain, value, what: str, channels_last: bool, name: str, label: str, where: str):
    """The chain of ``x + bias`` with one number per channel (or one for all), as a per-channel affine map.

    ``what`` names the value added in messages (a tensor of shape ..., the number ...).
    """
    names, layers = chain
    known = _channels_of(layers)
    shape = tuple(value.shape)
    one = all(n == 1 for n in shape)
    # Unknown when the chain starts at this module's input: then the tensor says it (and the layer's
    # num_features checks it against what arrives); a single number says nothing.
    channels = known or (None if one else value.numel())
    c = "C" if known is None else str(known)
    shown = f"(N, H, W, {c})" if channels_last else f"(N, {c}, H, W)"
    if channels is None:
        raise _refuse(label, where, f"it adds {what} to a map of shape {shown} whose channels rfmaps does not "
                                    "know at this point; add it after a layer that has them (a Conv2d)", hint=False)
    shapes = ({(channels,), (1, channels), (1, 1, channels), (1, 1, 1, channels)} if channels_last else
              {(channels, 1, 1), (1, channels, 1, 1)})
    if value.is_complex() or not (one or shape in shapes):
        per_channel = f"(1, 1, 1, {c})" if channels_last else f"(1, {c}, 1, 1)"
        raise _refuse(label, where, f"it adds {what} to a map of shape {shown}; rfmaps reads an added tensor "
                                    f"only as one number per channel, shape {per_channel}, or one number for all "
                                    "(torch matches shapes from the last axis)", hint=False)
    # running_mean 0, running_var 1 and eps 0 leave x as it is; the bias is then added: exactly x + value.
    bias = value.detach().double().reshape(-1)
    return names + (name,), layers + (BatchNorm2d(channels, 0.0, bias=bias.repeat(channels) if one else bias),)


def _module_of_call(module_class, node, label: str, place: str):
    """The torch.nn module a functional call stands for, with the call's options."""
    names = _POSITIONAL.get(module_class.__name__, ())
    options = dict(zip(names, node.args[1:]))
    if len(node.args) - 1 > len(names):
        raise _refuse(label, place, "it has more arguments than rfmaps knows")
    options.update(node.kwargs)
    options.pop("inplace", None)
    if module_class.__name__ == "Flatten":
        options.setdefault("start_dim", 0)  # torch.flatten and x.flatten start at the batch axis by default
    if module_class.__name__ == "Dropout":
        # Unlike nn.Dropout, F.dropout does not follow model.eval(): it drops values whenever training=True,
        # its default. Reading that as the identity would show maps the model does not compute.
        if options.get("training", True) is not False and options.get("p", 0.5) != 0:
            # (fx records the defaults too: training=True written or not looks the same.)
            raise _refuse(label, place, "it is called with training=True (the default, and what "
                                        "training=self.training gives until model.eval()), so it drops values "
                                        "at random; pass training=self.training and call model.eval() before "
                                        "from_torch, or use nn.Dropout", hint=False)
        return module_class()
    try:
        return module_class(**options)
    except TypeError as error:
        raise _refuse(label, place, str(error)) from None
