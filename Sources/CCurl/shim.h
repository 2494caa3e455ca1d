// curl_easy_setopt and curl_easy_getinfo are variadic: Swift cannot call them. One typed wrapper per kind of
// argument the kiosk uses.
#ifndef KIOSK_CCURL_SHIM_H
#define KIOSK_CCURL_SHIM_H

#include <curl/curl.h>

static inline CURLcode kiosk_curl_setopt_long(CURL *curl, CURLoption option, long value) {
    return curl_easy_setopt(curl, option, value);
}

static inline CURLcode kiosk_curl_setopt_string(CURL *curl, CURLoption option, const char *value) {
    return curl_easy_setopt(curl, option, value);
}

static inline CURLcode kiosk_curl_setopt_pointer(CURL *curl, CURLoption option, void *value) {
    return curl_easy_setopt(curl, option, value);
}

typedef size_t (*kiosk_curl_write_callback)(char *data, size_t size, size_t count, void *context);

static inline CURLcode kiosk_curl_setopt_write(CURL *curl, kiosk_curl_write_callback callback, void *context) {
    CURLcode rc = curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, callback);
    if (rc != CURLE_OK) return rc;
    return curl_easy_setopt(curl, CURLOPT_WRITEDATA, context);
}

static inline CURLcode kiosk_curl_response_code(CURL *curl, long *code) {
    return curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, code);
}

#endif
