"""The PyTorch references of the U-Nets, shared by the reference scripts: the modules
Tests/DiffusionTests/Fixtures/make_unet_fixture.py (the Annotated U-Net, `reference`) and
make_seed_unets_fixture.py (the MindSpore port's and TwoResUNet, `seeds`; `seeds.fashion_model(name)`
builds any of the three) — the models the tests compare ours with, parameter for parameter —
loaded by path so the scripts need no package layout."""
import importlib.util
import os

_here = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location(
    "make_unet_fixture", os.path.join(_here, "..", "..", "Tests", "DiffusionTests", "Fixtures", "make_unet_fixture.py"))
reference = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(reference)

_spec = importlib.util.spec_from_file_location(
    "make_seed_unets_fixture", os.path.join(_here, "..", "..", "Tests", "DiffusionTests", "Fixtures", "make_seed_unets_fixture.py"))
seeds = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(seeds)
