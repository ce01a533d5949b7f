"""The pass pages of staff (``/passes/...``) and of a household (``/checkin/passes/``)."""

from django.urls import path

from firstline.gates import pass_views as views

app_name = "passes"
urlpatterns = [
    path("passes/", views.pass_list, name="list"),
    path("passes/requests/", views.request_queue, name="requests"),
    path("passes/requests/<str:code>/", views.request_decide, name="request_decide"),
    path("passes/cards/<str:code>/", views.sheet, name="sheet"),
    path("passes/cards/<str:code>/<str:token>/", views.sheet_job, name="sheet_job"),
    path("passes/cards/<str:code>/<str:token>/cards.pdf", views.sheet_download, name="sheet_download"),
    path("passes/issue/<str:code>/", views.pass_issue, name="issue"),
    path("passes/<str:code>/", views.pass_detail, name="detail"),
    path("passes/<str:code>/revoke/", views.pass_revoke, name="revoke"),
    path("checkin/passes/", views.household_passes, name="mine"),
]
