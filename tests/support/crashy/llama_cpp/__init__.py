"""A stand-in for a llama-cpp-python build that dies with SIGILL on decode, as one built with AMX kernels does on an
AMX Xeon. Put this folder first on PYTHONPATH: it loads the real llama_cpp package in its place (so loading,
tokenizing and templates are the real ones) and makes `Llama.eval` send the process a real SIGILL when the batch is
longer than CRASHY_ABOVE_TOKENS tokens (default 0: every decode). The process dies by the signal as it would from
the illegal instruction; only the instruction is simulated."""

import importlib.util
import os
import signal
import sys
from pathlib import Path

_here = Path(__file__).resolve().parent
_real = next(Path(p) / "llama_cpp" for p in sys.path[1:]
             if (Path(p) / "llama_cpp" / "__init__.py").is_file() and (Path(p) / "llama_cpp").resolve() != _here)
_spec = importlib.util.spec_from_file_location("llama_cpp", _real / "__init__.py",
                                               submodule_search_locations=[str(_real)])
_module = importlib.util.module_from_spec(_spec)
sys.modules["llama_cpp"] = _module
_spec.loader.exec_module(_module)
_eval = _module.Llama.eval
_above = int(os.environ.get("CRASHY_ABOVE_TOKENS", "0"))


def _crashing_eval(self, tokens):
    if len(tokens) > _above:
        os.kill(os.getpid(), signal.SIGILL)
    return _eval(self, tokens)


_module.Llama.eval = _crashing_eval
