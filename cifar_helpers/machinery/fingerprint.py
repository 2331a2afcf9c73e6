"""What a run built and compiled, as a short stamp: an edited network or optimizer never reuses an old record."""

import hashlib
import json


def canonical(value):
    """`value` as plain JSON data (numbers, strings, lists, dicts), so equal settings compare equal."""
    return json.loads(json.dumps(value, sort_keys=True, default=str))


# Where each of the package's registered classes lived when the stamps were first made. A stamp names a class by
# this table, never by the module it lives in now, so moving a class to another module retrains nothing; a class
# added later is named by its registered name alone.
STAMP_MODULES = {
    "cifar_helpers>AlternatingFlip": "cifar_helpers.speedrun",
    "cifar_helpers>BatchNormalization": "cifar_helpers.fused_norm",
    "cifar_helpers>LocalResponseNormalization": "cifar_helpers.models",
    "cifar_helpers>PadAndRandomCrop": "cifar_helpers.augment",
    "cifar_helpers>PartialDirac": "cifar_helpers.speedrun",
    "cifar_helpers>PerImageStandardization": "cifar_helpers.augment",
    "cifar_helpers>RandomCropPerImage": "cifar_helpers.augment",
    "cifar_helpers>Triangle": "cifar_helpers.schedules",
    "cifar_helpers>ZeroPadShortcut": "cifar_helpers.models",
}

# Layers that compute what a Keras layer computes, only faster; a stamp reads them as that layer, so records
# trained with either stand for both (fused_norm.py: its tests hold it to Keras' layer).
SAME_AS_KERAS = {"cifar_helpers>BatchNormalization": "BatchNormalization"}


def stamp_entry(entry: dict) -> dict:
    """One serialized object as a stamp reads it: the package's classes by name, not by where they live now."""
    registered = entry.get("registered_name")
    if registered in SAME_AS_KERAS:
        return {**entry, "module": "keras.layers", "class_name": SAME_AS_KERAS[registered], "registered_name": None}
    if isinstance(registered, str) and registered.startswith("cifar_helpers>"):
        return {**entry, "module": STAMP_MODULES.get(registered, "cifar_helpers")}
    return entry


def as_stamped(value):
    """`value` (a config) with every serialized object read by stamp_entry."""
    if isinstance(value, list):
        return [as_stamped(item) for item in value]
    if not isinstance(value, dict):
        return value
    return stamp_entry({key: as_stamped(item) for key, item in value.items()})


def layer_names(config: dict) -> list:
    """The names of a model's layers and nested models, in the order its config lists them."""
    names = [config["name"]] if isinstance(config.get("name"), str) else []
    for entry in config.get("layers", []):
        inner = entry.get("config", {})
        names += layer_names(inner) if "layers" in inner else [inner.get("name", entry.get("name"))]
    return [name for name in names if name]


def renamed(value, names: dict):
    """`value` with every layer name replaced by its position, so two builds of one network read alike."""
    if isinstance(value, dict):
        return {key: renamed(item, names) for key, item in value.items()}
    if isinstance(value, list):
        return [renamed(item, names) for item in value]
    return names.get(value, value) if isinstance(value, str) else value


def network_config(model) -> dict:
    """model.get_config() with the layer names Keras numbers per session (conv2d_7) replaced by positions."""
    config = as_stamped(canonical(model.get_config()))
    names = {name: f"layer {index}" for index, name in enumerate(dict.fromkeys(layer_names(config)))}
    return renamed(config, names)


def digest(value) -> str:
    """A 16-digit hash of JSON data."""
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:16]


def fingerprint(model) -> dict:
    """The network's hash, and the optimizer, loss and metrics the model was compiled with (readable)."""
    compiled = as_stamped(canonical(model.get_compile_config()))
    optimizer = compiled.get("optimizer", {})
    return {
        "network": digest(network_config(model)),
        "optimizer": {
            "class_name": optimizer.get("class_name"),
            **{k: v for k, v in optimizer.get("config", {}).items() if k != "name"},
        },
        "loss": compiled.get("loss"),
        "metrics": compiled.get("metrics"),
    }


def short(value) -> str:
    """A setting's value in a few characters: floats to 7 digits, an object (a schedule, a loss) by its class name."""
    if isinstance(value, float):
        return f"{value:.7g}"
    if isinstance(value, dict) and "class_name" in value:
        return str(value["class_name"])
    return value if isinstance(value, str) else json.dumps(value)


def change(key: str, old, new) -> str:
    """One setting's change in words; an object of the same class whose settings changed says so."""
    if short(old) == short(new):
        return f"{key} ({short(new)}) settings"
    return f"{key} {short(old)} -> {short(new)}"


def changes(recorded: dict, built: dict) -> list:
    """What differs between two fingerprints, in words: 'the network', 'optimizer learning_rate 0.001 -> 0.01', ..."""
    said = []
    if recorded.get("network") != built.get("network"):
        said.append("the network (its layers or their settings)")
    old, new = recorded.get("optimizer") or {}, built.get("optimizer") or {}
    said += [
        change(f"optimizer {key}", old.get(key), new.get(key))
        for key in sorted(set(old) | set(new))
        if old.get(key) != new.get(key)
    ]
    said += [f"the {key}" for key in ("loss", "metrics") if recorded.get(key) != built.get(key)]
    return said
