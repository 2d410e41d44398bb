# The runner: `rocky` (run + trace). Included by host/CMakeLists.txt.
add_library(rocky_runner STATIC
  ${CMAKE_CURRENT_LIST_DIR}/sqlscan.c
  ${CMAKE_CURRENT_LIST_DIR}/project_load.c
  ${CMAKE_CURRENT_LIST_DIR}/project_plugins.c
  ${CMAKE_CURRENT_LIST_DIR}/project_graph.c
  ${CMAKE_CURRENT_LIST_DIR}/materialize.c
  ${CMAKE_CURRENT_LIST_DIR}/output.c
  ${CMAKE_CURRENT_LIST_DIR}/run_id.c
  ${CMAKE_CURRENT_LIST_DIR}/recorder.c
  ${CMAKE_CURRENT_LIST_DIR}/progress.c
  ${CMAKE_CURRENT_LIST_DIR}/run.c
  ${CMAKE_CURRENT_LIST_DIR}/retention.c)
target_include_directories(rocky_runner PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_compile_definitions(rocky_runner PRIVATE
  ROCKY_VERSION="${PROJECT_VERSION}")
target_link_libraries(rocky_runner PUBLIC rocky_plugin_host rocky_store
  rocky_exit_guard
  PkgConfig::CJSON PkgConfig::SQLITE3 Threads::Threads)

add_executable(rocky ${CMAKE_CURRENT_LIST_DIR}/main.c)
target_compile_definitions(rocky PRIVATE ROCKY_VERSION="${PROJECT_VERSION}")
target_link_libraries(rocky PRIVATE rocky_runner)
if(TARGET rocky_trace_cli)
  target_link_libraries(rocky PRIVATE rocky_trace_cli)
  target_compile_definitions(rocky PRIVATE ROCKY_HAVE_TRACE_CLI=1)
endif()
set_target_properties(rocky PROPERTIES
  RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bin)
