"""The deterministic demo district 兖州区: `plan` decides everything, `build` writes it.

`gongzhi demo` (and `gongzhi run` on an empty database) calls `demo_build`; `demo_accounts`
lists the demo logins. Only available with GONGZHI_DEBUG=1 or GONGZHI_DEMO=1.
"""
