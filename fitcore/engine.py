"""Choosing and building the torch engine of a run: device and dtype checked once, here."""
from .dataset import Dataset
from .errors import InputError
from .moments import Moments, remap_types
from .spec import ModelOptions


def torch_dtype(name: str):
    import torch
    return {"float64": torch.float64, "float32": torch.float32}[name]


def check_device(device: str) -> str:
    """``device`` if torch can allocate on it; an InputError naming --device otherwise."""
    import torch
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise InputError(f"--device {device}: CUDA is not available on this machine (use --device cpu)")
    try:
        torch.empty(0, device=device)
    except (RuntimeError, ValueError) as err:
        raise InputError(f"--device {device}: {err}") from None
    return device


def make_engine(dataset: Dataset, moments: Moments | None, model: ModelOptions, type_names: tuple[str, ...]):
    """The MomentEngine (from ``moments``) or, with ``model.engine == "direct"``, the DirectEngine."""
    from .model import DirectEngine, MomentEngine
    device, dtype = check_device(model.device), torch_dtype(model.dtype)
    if model.engine == "direct":
        return DirectEngine(dataset, model.scheme, model.scope, device, dtype, type_names)
    return MomentEngine(remap_types(moments, type_names), device, dtype)
