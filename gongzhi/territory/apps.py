from django.apps import AppConfig


class TerritoryConfig(AppConfig):
    name = "gongzhi.territory"
    label = "territory"
