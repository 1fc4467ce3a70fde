"""Install kioskd's packages and its two console scripts."""

from setuptools import find_packages, setup

setup(
    name="kioskd",
    version="0.1.0",
    description="Offline talking-head kiosk: listen, answer, speak with a moving face",
    python_requires=">=3.11,<3.12",
    packages=find_packages(include=["daemon*", "models*", "accel*", "kiosk*", "bench*"]),
    entry_points={
        "console_scripts": [
            "kioskd=daemon.cli_kioskd:main",
            "kioskctl=daemon.cli_kioskctl:main",
        ]
    },
)
