// Android only: ConnectivityManager's default-network callback drives the pure-Kotlin
// Connectivity that SyncOnReconnect watches (tested on the JVM with SettableConnectivity).
package app.homevisit.android

import android.content.Context
import android.net.ConnectivityManager
import android.net.Network
import android.net.NetworkCapabilities
import app.homevisit.kit.Connectivity
import app.homevisit.kit.SettableConnectivity
import kotlinx.coroutines.flow.StateFlow

class AndroidConnectivity(context: Context) : Connectivity, AutoCloseable {
    private val cm = context.getSystemService(ConnectivityManager::class.java)
    private val state = SettableConnectivity(initial = isValidated(cm.activeNetwork))
    override val online: StateFlow<Boolean> = state.online

    private val callback = object : ConnectivityManager.NetworkCallback() {
        override fun onCapabilitiesChanged(network: Network, caps: NetworkCapabilities) {
            state.set(caps.hasCapability(NetworkCapabilities.NET_CAPABILITY_VALIDATED))
        }

        override fun onLost(network: Network) {
            state.set(false)
        }
    }

    init {
        cm.registerDefaultNetworkCallback(callback)
    }

    private fun isValidated(network: Network?): Boolean =
        network != null && cm.getNetworkCapabilities(network)?.hasCapability(NetworkCapabilities.NET_CAPABILITY_VALIDATED) == true

    override fun close() {
        cm.unregisterNetworkCallback(callback)
    }
}
