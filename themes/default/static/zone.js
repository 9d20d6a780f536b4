// The browser's zone: chosen on the sign-up form, and sent as the hearth_zone cookie.
(function () {
  "use strict";
  var zone;
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch (e) {
    return;
  }
  if (!zone || !/^[A-Za-z0-9_+\-\/]{1,64}$/.test(zone)) return;
  // A form sent back with errors keeps the member's choice.
  var pick = document.querySelector('form[action="/register"] select[name="time_zone"]');
  if (pick && !document.querySelector(".error-summary")) {
    for (var i = 0; i < pick.options.length; i++) {
      if (pick.options[i].value === zone) {
        pick.value = zone;
        break;
      }
    }
  }
  if (("; " + document.cookie + ";").indexOf("; hearth_zone=" + zone + ";") < 0) {
    document.cookie = "hearth_zone=" + zone + "; path=/; max-age=31536000; SameSite=Lax" +
      (location.protocol === "https:" ? "; Secure" : "");
  }
})();
