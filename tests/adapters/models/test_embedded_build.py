"""The llama-cpp-python that `make install` built (issue 18): no AMX kernel compiled in, so no AMX machine dies with
SIGILL on decode; every other vector extension of this CPU kept, so decoding is as fast as a native build. Checked
on the built library itself, so CI on any machine catches a build that regresses."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
from pathlib import Path

import pytest

# AMX instructions as objdump spells them: tile configuration, loads/stores and the dot products.
AMX_MNEMONIC = re.compile(r"\t(ldtilecfg|sttilecfg|tilerelease|tilezero|tileloadd\w*|tilestored|tdp\w+)\b")
# /proc/cpuinfo flag -> the ggml CPU feature a build for this CPU must then report
KEPT = {"avx": "AVX", "avx2": "AVX2", "fma": "FMA", "f16c": "F16C", "avx512f": "AVX512",
        "avx512_vnni": "AVX512_VNNI", "avx512vbmi": "AVX512_VBMI", "avx512_bf16": "AVX512_BF16"}


def features() -> dict[str, str]:
    import llama_cpp

    info = llama_cpp.llama_print_system_info().decode()
    return dict(re.findall(r"(\w+) = (\w+)", info))


def cpu_flags() -> set[str]:
    text = Path("/proc/cpuinfo").read_text()
    return set(re.search(r"^flags\s*:(.*)$", text, re.M).group(1).split())


def test_no_amx_kernel_is_compiled_in():
    found = features()
    assert "AVX" in found or "NEON" in found, found  # the feature list was read, not empty
    assert "AMX_INT8" not in found, found


def test_no_amx_instruction_is_in_the_cpu_backend():
    objdump = shutil.which("objdump")
    if objdump is None:
        pytest.skip("objdump (binutils) is not installed, so the library cannot be disassembled")
    spec = importlib.util.find_spec("llama_cpp")
    libs = [p for folder in spec.submodule_search_locations for p in (Path(folder) / "lib").glob("libggml-cpu*.so*")]
    assert libs, "llama-cpp-python has no ggml CPU backend library"
    for lib in libs:
        listing = subprocess.run([objdump, "-d", "--no-show-raw-insn", str(lib)], capture_output=True, text=True,
                                 check=True).stdout
        assert "\tvfmadd" in listing or "\tvpdp" in listing or "\tvmulps" in listing  # it disassembled vector code
        assert not AMX_MNEMONIC.findall(listing), f"{lib} holds AMX instructions"


@pytest.mark.skipif(not Path("/proc/cpuinfo").exists(), reason="needs Linux's /proc/cpuinfo")
def test_every_other_vector_extension_of_this_cpu_is_kept():
    flags, found = cpu_flags(), features()
    missing = [feature for flag, feature in KEPT.items() if flag in flags and found.get(feature) != "1"]
    assert not missing, f"this CPU has them, the build does not use them: {missing}"


def test_the_disassembly_check_finds_amx_where_it_is(tmp_path):
    """The check above can fail: an object compiled with AMX (as -march=native does on an AMX Xeon) is caught."""
    cc, objdump = shutil.which("cc"), shutil.which("objdump")
    if cc is None or objdump is None:
        pytest.skip("needs a C compiler and objdump")
    source = tmp_path / "amx.c"
    source.write_text("#include <immintrin.h>\nvoid clear(void) { _tile_zero(0); _tile_release(); }\n")
    obj = tmp_path / "amx.o"
    subprocess.run([cc, "-O2", "-mamx-tile", "-c", str(source), "-o", str(obj)], check=True)
    listing = subprocess.run([objdump, "-d", "--no-show-raw-insn", str(obj)], capture_output=True, text=True,
                             check=True).stdout
    assert {"tilezero", "tilerelease"} <= set(AMX_MNEMONIC.findall(listing))
