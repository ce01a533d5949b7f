from django.urls import path

from firstline.tasks import views

app_name = "tasks"
urlpatterns = [
    path("tasks/", views.inbox, name="inbox"),
    path("tasks/team/", views.team, name="team"),
    path("tasks/<str:code>/", views.task, name="task"),
    path("tasks/<str:code>/visit/", views.task_visit, name="task_visit"),
    path("tasks/<str:code>/done/", views.task_done, name="task_done"),
    path("r/<str:code>/tasks/new/", views.task_new, name="task_new"),
]
