// crypto.getRandomValues for the Cognito SRP client on iOS/Android (the web has its own).
import "react-native-get-random-values";
import { registerRootComponent } from "expo";

import App from "./src/App";

registerRootComponent(App);
