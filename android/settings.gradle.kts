// HomeVisit for Android: the library (core bindings + Kotlin layer + presenters) and the app.
// The core's Kotlin bindings are generated, not committed: see README.md "Build".
pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
}

dependencyResolutionManagement {
    repositoriesMode.set(RepositoriesMode.FAIL_ON_PROJECT_REPOS)
    repositories {
        google()
        mavenCentral()
    }
}

rootProject.name = "homevisit-android"
include(":homevisit", ":app")
