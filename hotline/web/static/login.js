import { $, api } from "/static/common.js";

const HOME = { lawyer: "/console", supervisor: "/dashboard", admin: "/dashboard", station_staff: "/station" };

function safeNext(value) {
  if (!value || !value.startsWith("/") || value.startsWith("//") || value.includes("\\")) return null;
  return value;
}

const params = new URLSearchParams(location.search);
if (params.get("expired")) $("#expired").classList.remove("hidden");

$("#login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const button = $("#login-submit");
  const error = $("#login-error");
  error.textContent = "";
  button.disabled = true;
  try {
    const body = { username: $("#username").value.trim(), password: $("#password").value };
    const answer = await api("/api/auth/login", { method: "POST", body });
    location.assign(safeNext(params.get("next")) || HOME[answer.user.role] || "/");
  } catch (exc) {
    error.textContent = exc.message;  // the server's own bilingual words (wrong password, too many attempts)
    button.disabled = false;
  }
});
