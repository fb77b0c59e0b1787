// The library module: the generated core bindings (../gen/kotlin, made by
// `bash bindings/generate.sh`), the native libraries (src/main/jniLibs, made by
// `android/build-rust.sh`), the Kotlin layer (app.homevisit.kit), the presenters
// (app.homevisit.presenters) and the Android-only parts (src/androidMain: Keystore key,
// ConnectivityManager callback, WorkManager job).
plugins {
    alias(libs.plugins.android.library)
    alias(libs.plugins.kotlin.android)
}

val repoRoot: File = rootProject.projectDir.parentFile
val generatedBindings = File(repoRoot, "gen/kotlin")

android {
    namespace = "app.homevisit"
    compileSdk = 35

    defaultConfig {
        minSdk = 26
        consumerProguardFiles("consumer-rules.pro")
    }

    sourceSets {
        getByName("main") {
            kotlin.srcDirs("src/main/kotlin", "src/androidMain/kotlin", generatedBindings)
            jniLibs.srcDirs("src/main/jniLibs")
        }
        getByName("test") {
            kotlin.srcDirs("src/test/kotlin")
        }
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }

    testOptions {
        unitTests.all {
            // JVM unit tests run against the host build of the core and the real server, as CI
            // does (.ci/suites/50-android.sh): `cargo build --workspace` first.
            it.workingDir = repoRoot
            it.systemProperty("jna.library.path", File(repoRoot, "target/debug").path)
            it.systemProperty("homevisit.server", File(repoRoot, "target/debug/homevisit-server").path)
        }
    }
}

kotlin {
    jvmToolchain(17)
}

tasks.named("preBuild") {
    doFirst {
        check(File(generatedBindings, "app/homevisit/core").isDirectory) {
            "generate the core bindings first: bash bindings/generate.sh (see android/README.md)"
        }
    }
}

dependencies {
    // JNA loads libhomevisit_ffi.so; the AAR carries JNA's own native part for each ABI.
    api(libs.jna) {
        artifact {
            type = "aar"
        }
    }
    api(libs.kotlinx.coroutines.android)
    implementation(libs.androidx.work.runtime.ktx)

    testImplementation(libs.junit)
    testImplementation(libs.jna)
    testImplementation(libs.kotlinx.coroutines.core)
}
