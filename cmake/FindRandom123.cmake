# Random123 (Debian librandom123-dev) is header-only and ships neither a CMake config
# nor a version macro; the version comes from dpkg where it is available.
find_path(Random123_INCLUDE_DIR Random123/philox.h)
set(Random123_VERSION "unknown")
find_program(_r123_dpkg_query dpkg-query)
if(_r123_dpkg_query)
  execute_process(COMMAND ${_r123_dpkg_query} -W -f=\${Version} librandom123-dev
                  OUTPUT_VARIABLE _r123_version ERROR_QUIET RESULT_VARIABLE _r123_status)
  if(_r123_status EQUAL 0 AND _r123_version)
    set(Random123_VERSION "${_r123_version}")
  endif()
endif()
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(Random123 REQUIRED_VARS Random123_INCLUDE_DIR VERSION_VAR Random123_VERSION)
if(Random123_FOUND AND NOT TARGET Random123::Random123)
  add_library(Random123::Random123 INTERFACE IMPORTED)
  set_target_properties(Random123::Random123 PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${Random123_INCLUDE_DIR}")
endif()
