# designs.cmake: the design plugins. Each folder of MMSIM_DESIGN_FOLDERS declares its designs with mmsim_design(); the
# build then generates the registry (the table vm_designs() returns) and gives the tests the list of names.

# mmsim_design(LIBRARY NAME...): LIBRARY implements the designs NAME..., each as `const struct vm_design
# vm_design_<NAME with - as _>` whose .name is NAME. Call it once in the design folder's CMakeLists.txt.
function(mmsim_design lib)
  set_property(GLOBAL APPEND PROPERTY MMSIM_DESIGN_LIBS ${lib})
  set_property(GLOBAL APPEND PROPERTY MMSIM_DESIGN_NAMES ${ARGN})
endfunction()

foreach(dir ${MMSIM_DESIGN_FOLDERS})
  add_subdirectory(${dir})
endforeach()

get_property(MMSIM_DESIGN_LIBS GLOBAL PROPERTY MMSIM_DESIGN_LIBS)
get_property(MMSIM_DESIGN_NAMES GLOBAL PROPERTY MMSIM_DESIGN_NAMES)
set(MMSIM_REGISTRY_EXTERNS "")
set(MMSIM_REGISTRY_ENTRIES "")
foreach(name ${MMSIM_DESIGN_NAMES})
  string(REPLACE "-" "_" id ${name})
  string(APPEND MMSIM_REGISTRY_EXTERNS "extern const struct vm_design vm_design_${id};\n")
  string(APPEND MMSIM_REGISTRY_ENTRIES "\t&vm_design_${id},\n")
endforeach()
configure_file(${CMAKE_SOURCE_DIR}/cmake/registry.c.in ${CMAKE_BINARY_DIR}/registry.c @ONLY)
add_library(mmsim_designs STATIC ${CMAKE_BINARY_DIR}/registry.c)
target_link_libraries(mmsim_designs PUBLIC ${MMSIM_DESIGN_LIBS} mmsim_vm)
