"""The public board, mounted at /board/ (outside the staff pages of /insight/)."""

from django.urls import path

from gongzhi.insight import views_board

app_name = "board"

urlpatterns = [
    path("<str:code>/", views_board.board, name="board"),
]
