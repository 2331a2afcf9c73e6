"""What a run built and compiled, as a short stamp: an edited network or optimizer never reuses an old record."""

import hashlib
import json


def canonical(value):
    """`value` as plain JSON data (numbers, strings, lists, dicts), so equal settings compare equal."""
    return json.loads(json.dumps(value, sort_keys=True, default=str))


# Layers that compute what a Keras layer computes, only faster; a stamp reads them as that layer, so records
# trained with either stand for both (fused_norm.py: its tests hold it to Keras' layer).
SAME_AS_KERAS = {"cifar_helpers>BatchNormalization": "BatchNormalization"}


def as_keras_layers(value):
    """`value` with every SAME_AS_KERAS layer entry written as the Keras layer it computes."""
    if isinstance(value, list):
        return [as_keras_layers(item) for item in value]
    if not isinstance(value, dict):
        return value
    value = {key: as_keras_layers(item) for key, item in value.items()}
    if value.get("registered_name") in SAME_AS_KERAS:
        value.update(module="keras.layers", class_name=SAME_AS_KERAS[value["registered_name"]], registered_name=None)
    return value


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
    config = as_keras_layers(canonical(model.get_config()))
    names = {name: f"layer {index}" for index, name in enumerate(dict.fromkeys(layer_names(config)))}
    return renamed(config, names)


def digest(value) -> str:
    """A 16-digit hash of JSON data."""
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:16]


def fingerprint(model) -> dict:
    """The network's hash, and the optimizer, loss and metrics the model was compiled with (readable)."""
    compiled = canonical(model.get_compile_config())
    optimizer = compiled.get("optimizer", {})
    return {"network": digest(network_config(model)),
            "optimizer": {"class_name": optimizer.get("class_name"),
                          **{k: v for k, v in optimizer.get("config", {}).items() if k != "name"}},
            "loss": compiled.get("loss"), "metrics": compiled.get("metrics")}


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
    said += [change(f"optimizer {key}", old.get(key), new.get(key))
             for key in sorted(set(old) | set(new)) if old.get(key) != new.get(key)]
    said += [f"the {key}" for key in ("loss", "metrics") if recorded.get(key) != built.get(key)]
    return said
