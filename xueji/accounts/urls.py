from django.urls import path

from xueji.accounts import token_views, views

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("tokens/", token_views.ApiTokenListView.as_view(), name="api-token-list"),
    path("tokens/new/", token_views.ApiTokenCreateView.as_view(), name="api-token-create"),
    path(
        "tokens/<int:pk>/revoke/",
        token_views.ApiTokenRevokeView.as_view(),
        name="api-token-revoke",
    ),
]
