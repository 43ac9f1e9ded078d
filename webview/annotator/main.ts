/**
 * Entry of the annotator webview bundle (dist/webview/annotator.js + .css): registers the
 * @vscode-elements components it uses and mounts the Svelte app.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-progress-bar/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import { mount } from 'svelte';
import App from './App.svelte';
import './base.css';

mount(App, { target: document.getElementById('app') ?? document.body });
