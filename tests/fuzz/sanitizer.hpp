#pragma once
// AddressSanitizer reserves terabytes of address space, so a fuzz child under it cannot
// have an address-space limit.

inline bool under_address_sanitizer() {
#if defined(__SANITIZE_ADDRESS__)
  return true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
  return true;
#endif
#endif
  return false;
}
