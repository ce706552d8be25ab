# dangan-gtk, the graphical client (docs/gtk.md). Included by the top
# CMakeLists.txt when pkg-config finds gtk4 >= 4.8 and libadwaita-1 >= 1.2.
add_executable(dangan-gtk
  client/gtk/main.c client/gtk/gtk_conn.c client/gtk/gtk_session.c client/gtk/firstrun.c
  client/gtk/window.c client/gtk/customers.c client/gtk/customer_text.c client/gtk/dossier.c
  client/gtk/activity.c client/gtk/tasks.c)
target_link_libraries(dangan-gtk PRIVATE libdangan dgclientconf dggui PkgConfig::GTK4)
# the dossier's forms and conflict dialog
target_sources(dangan-gtk PRIVATE client/gtk/dossier_form.c client/gtk/dossier_timeline.c)
# the Today, Audit and Users pages, the New customer dialog, the bench hooks
target_sources(dangan-gtk PRIVATE client/gtk/today.c client/gtk/audit.c client/gtk/users.c
  client/gtk/newcust.c client/gtk/bench.c)
# OpenGL drawn in software: GTK's cairo renderer instead (renderer.c; epoxy comes with GTK)
pkg_check_modules(EPOXY REQUIRED IMPORTED_TARGET epoxy)
target_sources(dangan-gtk PRIVATE client/gtk/renderer.c)
target_link_libraries(dangan-gtk PRIVATE PkgConfig::EPOXY)
target_compile_definitions(dangan-gtk PRIVATE
  DG_GTK_LOCALEDIR="${CMAKE_INSTALL_FULL_LOCALEDIR}" GETTEXT_PACKAGE="dangan")
# GTK's and GLib's headers are not -Wpedantic / -Wstrict-prototypes clean
target_compile_options(dangan-gtk PRIVATE -Wno-pedantic)

# translations: po/<lang>.po -> build/locale/<lang>/LC_MESSAGES/dangan.mo,
# found there when dangan-gtk runs from the build tree, installed otherwise
find_program(MSGFMT msgfmt)
if(MSGFMT)
  set(dg_mo_files)
  foreach(lang zh_CN)
    set(mo ${CMAKE_BINARY_DIR}/locale/${lang}/LC_MESSAGES/dangan.mo)
    add_custom_command(
      OUTPUT ${mo}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/locale/${lang}/LC_MESSAGES
      COMMAND ${MSGFMT} --check -o ${mo} ${CMAKE_SOURCE_DIR}/po/${lang}.po
      DEPENDS ${CMAKE_SOURCE_DIR}/po/${lang}.po
      COMMENT "msgfmt po/${lang}.po")
    list(APPEND dg_mo_files ${mo})
    install(FILES ${mo} DESTINATION ${CMAKE_INSTALL_LOCALEDIR}/${lang}/LC_MESSAGES)
  endforeach()
  add_custom_target(dangan-gtk-mo ALL DEPENDS ${dg_mo_files})
else()
  message(STATUS "dangan-gtk: msgfmt not found (gettext): built without translations")
endif()

install(TARGETS dangan-gtk RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES client/gtk/data/org.dangan.Gtk.desktop
        DESTINATION ${CMAKE_INSTALL_DATADIR}/applications)
install(FILES client/gtk/data/org.dangan.Gtk.svg
        DESTINATION ${CMAKE_INSTALL_DATADIR}/icons/hicolor/scalable/apps)
