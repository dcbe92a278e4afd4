; C360 Desktop installer (Inno Setup 6). Built by .github/workflows/windows.yml:
;   iscc /DAppVersion=0.1.0 packaging\windows\c360.iss
; from the one-folder build in dist\c360 (python packaging\build.py).
;
; Per user, without administrator rights, by default (into %LOCALAPPDATA%\Programs); IT installs
; for every user of the machine with /ALLUSERS (needs administrator rights). Silent:
;   c360-desktop-0.1.0-setup.exe /VERYSILENT /SUPPRESSMSGBOXES /NORESTART [/ALLUSERS] [/TASKS=desktopicon]
;   "%LOCALAPPDATA%\Programs\C360 Desktop\unins000.exe" /VERYSILENT /SUPPRESSMSGBOXES
; A newer installer over an older one upgrades in place (same AppId). Uninstalling keeps the
; user's caches and settings unless the user says yes to removing them (never when silent,
; unless /PURGE is given).

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif
#define AppName "C360 Desktop"
#define AppExe "c360-desktop.exe"

[Setup]
AppId={{D237B4DC-0784-4C51-9733-3C2D71303AED}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=C360
VersionInfoVersion={#AppVersion}
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=commandline dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir=..\..\dist
OutputBaseFilename=c360-desktop-{#AppVersion}-setup
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
UninstallDisplayIcon={app}\{#AppExe}
UninstallDisplayName={#AppName}
CloseApplications=yes
RestartApplications=no
SetupLogging=yes
#ifdef SignTool
SignTool={#SignTool}
SignedUninstaller=yes
#endif

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[InstallDelete]
; an upgrade replaces the program's own folder: nothing of an older build lingers
Type: filesandordirs; Name: "{app}\_internal"

[Files]
Source: "..\..\dist\c360\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExe}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

[Code]
function Purge(): Boolean;
begin
  Result := ExpandConstant('{param:PURGE|no}') <> 'no';
end;

procedure CurUninstallStepChanged(CurUninstallStep: TUninstallStep);
var
  Data: String;
begin
  if CurUninstallStep = usPostUninstall then
  begin
    Data := ExpandConstant('{localappdata}\c360-desktop');
    if not DirExists(Data) then
      Exit;
    if Purge() or ((not UninstallSilent()) and
       (MsgBox('Also delete your C360 Desktop caches, settings and logs in ' + Data + '?' + #13#10 +
               'Changes not yet synced would be lost.', mbConfirmation, MB_YESNO or MB_DEFBUTTON2) = IDYES)) then
      DelTree(Data, True, True, True);
  end;
end;
