"""What this CPU is, and whether it does bf16 arithmetic natively (Linux: /proc/cpuinfo)."""

import platform

BF16_FLAGS = ("avx512_bf16", "amx_bf16")  # CPU instructions that do bf16 arithmetic natively (else it is emulated)


def cpuinfo_text(path: str = "/proc/cpuinfo") -> str:
    """The text of /proc/cpuinfo ("" where there is none: not Linux)."""
    try:
        with open(path) as file:
            return file.read()
    except OSError:
        return ""


def cpu_model(cpuinfo: str = None) -> str:
    """The CPU's model name, from /proc/cpuinfo (else what platform says)."""
    for line in (cpuinfo if cpuinfo is not None else cpuinfo_text()).splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine() or "unknown CPU"


def cpu_bf16_flags(cpuinfo: str = None) -> list:
    """The bf16 instruction flags this CPU lists (empty: bf16 would be emulated, far slower than float32)."""
    flags = set()
    for line in (cpuinfo if cpuinfo is not None else cpuinfo_text()).splitlines():
        if line.startswith("flags"):
            flags.update(line.split(":", 1)[1].split())
    return [flag for flag in BF16_FLAGS if flag in flags]


def cpu_precision(cpuinfo: str = None) -> tuple:
    """(Keras dtype policy, why) for training on this CPU:
    mixed_bfloat16 where it has bf16 instructions, else float32.
    """
    flags = cpu_bf16_flags(cpuinfo)
    if flags:
        return "mixed_bfloat16", f"the CPU has {' and '.join(flags)}"
    return "float32", "the CPU lacks avx512_bf16 and amx_bf16 (bf16 would be emulated)"
